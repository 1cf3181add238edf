import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, makeGenericClientConstructor, type Client } from '@grpc/grpc-js';
import { repoRoot, startTestStack, type TestStack } from '@domiq/testkit';

// What every service gets from the platform, checked on a real one (identity).
let stack: TestStack;
let ops: string;

beforeAll(async () => {
  stack = await startTestStack({ services: ['identity'] });
  ops = `http://127.0.0.1:${stack.ports.services.identity.ops}`;
});
afterAll(async () => stack?.stop());

const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };

describe('platform', () => {
  it('serves /healthz, /readyz and Prometheus /metrics on the ops port', async () => {
    expect((await fetch(`${ops}/healthz`)).status).toBe(200);
    const ready = await fetch(`${ops}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    const metrics = await (await fetch(`${ops}/metrics`)).text();
    expect(metrics).toContain('domiq_events_published_total');
    expect(metrics).toContain('process_cpu_user_seconds_total');
  });

  it('answers the standard gRPC health check and lists its services through reflection', async () => {
    const Ctor = makeGenericClientConstructor({
      Check: { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize },
      Info: { path: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', requestStream: true, responseStream: true, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize },
    }, 'Probe');
    const client = new Ctor(stack.grpcAddr('identity'), credentials.createInsecure()) as unknown as Client & {
      Check(req: Buffer, cb: (err: Error | null, res: Buffer) => void): void;
      Info(): import('node:stream').Duplex;
    };
    // HealthCheckRequest{service: ""} is an empty message; SERVING is field 1 = 1.
    const health = await new Promise<Buffer>((resolve, reject) => client.Check(Buffer.alloc(0), (err: Error | null, res: Buffer) => (err ? reject(err) : resolve(res))));
    expect([...health]).toEqual([0x08, 0x01]);
    // ServerReflectionRequest{list_services: ""} is field 7, length 0.
    const listed = await new Promise<string>((resolve, reject) => {
      const call = client.Info();
      call.on('data', (b: Buffer) => {
        resolve(b.toString('latin1'));
        call.end();
      });
      call.on('error', reject);
      call.write(Buffer.from([0x3a, 0x00]));
    });
    expect(listed).toContain('domiq.identity.v1.IdentityService');
    client.close();
  });

  it('a service with bad configuration exits 78 naming every bad variable', async () => {
    const child = spawn(process.execPath, [join('src', 'main.ts')], {
      cwd: join(repoRoot, 'services', 'identity'),
      env: { ...process.env, DATABASE_URL: 'mysql://nope', GRPC_PORT: 'seventy', OTEL_SDK_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(78);
    expect(stderr).toMatch(/DATABASE_URL: must be a postgres or postgresql URL/);
    expect(stderr).toMatch(/GRPC_PORT/);
  });

  it('on SIGTERM shuts down gracefully (exit 0) and starts again on the same schema', async () => {
    const proc = stack.services.identity!;
    expect(await proc.kill('SIGTERM')).toBe(0);
    await stack.start('identity');
    expect((await fetch(`${ops}/readyz`)).status).toBe(200);
  });
});
