// A service whose streams do not exist yet, as a real process (routing-sla: it owns ROUTING_SLA and runs two
// consumers, on IDENTITY and on CONVERSATIONS). Streams are created only by the platform's provisioning step
// (admin); the service waits for them, each consumer on its own, and a SIGTERM during any wait is a clean exit 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { provisionStreams } from '@domiq/bus';
import type { StreamName } from '@domiq/proto/events';
import {
  createTestDatabase, expectEventually, NatsServerProcess, randomPorts, serviceProcess, TestAuthority, type ServiceProcess, type StackPorts, type TestDatabase,
} from '@domiq/testkit';

let db: TestDatabase;
let nats: NatsServerProcess;
let admin: NatsConnection;
let auth: TestAuthority;
let ports: StackPorts;
const procs: ServiceProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  nats = await NatsServerProcess.start();
  admin = await nats.connectAdmin();
  auth = await TestAuthority.create();
  ports = await randomPorts();
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await admin?.close();
  await nats?.destroy();
  await db?.drop();
});

/** routing-sla started in the background: it never becomes ready while a stream is missing. */
function startRoutingSla(): { proc: ServiceProcess; starting: Promise<unknown> } {
  const proc = serviceProcess('routing-sla', {
    ports, databaseUrl: db.url, natsUrl: nats.url, natsEnv: (n) => nats.credentialsFor(n), authEnv: (n) => auth.envFor(n),
    extra: { LOG_LEVEL: 'info', OTEL_TRACES_EXPORTER: 'none' },
  });
  procs.push(proc);
  return { proc, starting: proc.start(60_000).catch((err: Error) => err) };
}

const logged = (proc: ServiceProcess, text: string) => proc.lines.filter((l) => l.includes(text));
const readyz = () => fetch(`http://127.0.0.1:${ports.services['routing-sla'].ops}/readyz`).then((r) => r.status, () => 0);
/** A JetStream API call as admin (raw: this package does not depend on @nats-io/jetstream). */
async function api(subject: string): Promise<{ error?: { code: number; err_code: number; description: string } }> {
  return JSON.parse((await admin.request(`$JS.API.${subject}`, '', { timeout: 5000 })).string());
}
const deleteStream = async (stream: StreamName) => expect((await api(`STREAM.DELETE.${stream}`)).error).toBeUndefined();
const streamExists = async (stream: StreamName) => !(await api(`STREAM.INFO.${stream}`)).error;
const durableExists = async (stream: StreamName, durable: string) => !(await api(`CONSUMER.INFO.${stream}.${durable}`)).error;

describe('a service waits for streams it may not create', () => {
  it('one consumer waiting for a missing stream holds up no other; not ready meanwhile; SIGTERM exits 0', async () => {
    await deleteStream('IDENTITY');
    const { proc } = startRoutingSla();
    // Its own stream exists: the ops server is up. The consumer on IDENTITY waits (logged once), the one on
    // CONVERSATIONS (listed after it) has started anyway.
    await expectEventually(async () => expect(logged(proc, 'stream IDENTITY does not exist yet')).toHaveLength(1), { timeoutMs: 30_000 });
    await expectEventually(async () => expect(await durableExists('CONVERSATIONS', 'routing-sla-conversation-created')).toBe(true));
    expect(await readyz()).toBe(503);
    expect(await streamExists('IDENTITY'), 'the service did not create it').toBe(false);
    expect(await proc.kill('SIGTERM')).toBe(0);
    expect(logged(proc, 'stopped')).not.toHaveLength(0);
    expect(proc.lines.join('\n')).not.toMatch(/unhandled|shutdown failed/i);
    expect(logged(proc, 'stream IDENTITY does not exist yet'), 'logged once').toHaveLength(1);
  });

  it('starts the waiting consumer and becomes ready once the provisioning step creates the stream', async () => {
    const { proc, starting } = startRoutingSla();
    await expectEventually(async () => expect(logged(proc, 'stream IDENTITY does not exist yet')).toHaveLength(1), { timeoutMs: 30_000 });
    await provisionStreams(admin, ['IDENTITY']);
    expect(await starting).toBeUndefined(); // start() resolved: /readyz answered 200
    expect(await durableExists('IDENTITY', 'routing-sla-user-created')).toBe(true);
    expect(logged(proc, 'stream IDENTITY exists now')).toHaveLength(1);
    expect(await proc.kill('SIGTERM')).toBe(0);
  });

  it('waits for its own stream at start (logged once), and a SIGTERM meanwhile exits 0', async () => {
    await deleteStream('ROUTING_SLA');
    const { proc } = startRoutingSla();
    await expectEventually(async () => expect(logged(proc, 'stream ROUTING_SLA does not exist yet')).toHaveLength(1), { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(logged(proc, 'stream ROUTING_SLA does not exist yet')).toHaveLength(1);
    expect(await readyz()).toBe(0); // the ops server starts only once its streams exist
    expect(await streamExists('ROUTING_SLA'), 'the service did not create it').toBe(false);
    expect(await proc.kill('SIGTERM')).toBe(0);
    await provisionStreams(admin, ['ROUTING_SLA']);
  });
});
