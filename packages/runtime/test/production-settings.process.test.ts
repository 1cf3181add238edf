// A real service process started with DOMIQ_ENV=production and unsafe settings exits 78 naming them, before it
// opens any connection (no database or NATS is needed for this test).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@domiq/testkit';

async function startService(name: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const base = { ...process.env };
  for (const k of ['DOMIQ_ENV', 'GRPC_REFLECTION', 'DOMIQ_ENCRYPTION_KEY', 'DOMIQ_ENCRYPTION_KEYS', 'NATS_NKEY_SEED', 'NATS_NKEY_SEED_FILE', 'DOMIQ_JWKS']) delete base[k];
  const child = spawn(process.execPath, [join('src', 'main.ts')], {
    cwd: join(repoRoot, 'services', name),
    // Unreachable infrastructure: the check must come first, so nothing ever tries these.
    env: { ...base, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', NATS_URL: 'nats://127.0.0.1:1', OTEL_SDK_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  return { code, stderr };
}

describe('DOMIQ_ENV=production', () => {
  it('refuses the development encryption key (exit 78 naming DOMIQ_ENCRYPTION_KEY)', async () => {
    const { code, stderr } = await startService('channel-gateway', { DOMIQ_ENV: 'production', NATS_NKEY_SEED_FILE: '/run/secrets/nats-seed' });
    expect(code).toBe(78);
    expect(stderr).toMatch(/DOMIQ_ENCRYPTION_KEY: holds the development encryption key/);
    expect(stderr).not.toMatch(/GRPC_REFLECTION/);
  });

  it('refuses a keyring that contains the development key (naming DOMIQ_ENCRYPTION_KEYS)', async () => {
    const { DEV_ENCRYPTION_KEY } = await import('@domiq/secrets');
    const { code, stderr } = await startService('resman-connector', {
      DOMIQ_ENV: 'production', NATS_NKEY_SEED_FILE: '/run/secrets/nats-seed',
      DOMIQ_ENCRYPTION_KEYS: `k2:${randomBytes(32).toString('base64')},k1:${DEV_ENCRYPTION_KEY}`,
    });
    expect(code).toBe(78);
    expect(stderr).toMatch(/DOMIQ_ENCRYPTION_KEYS: holds the development encryption key/);
  });

  it('refuses gRPC reflection switched on (exit 78 naming GRPC_REFLECTION) and names only that', async () => {
    const { code, stderr } = await startService('channel-gateway', {
      DOMIQ_ENV: 'production', GRPC_REFLECTION: 'true', NATS_NKEY_SEED_FILE: '/run/secrets/nats-seed',
      DOMIQ_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
    expect(code).toBe(78);
    expect(stderr).toMatch(/GRPC_REFLECTION: must be off in production/);
    expect(stderr).not.toMatch(/DOMIQ_ENCRYPTION_KEY|NATS_NKEY_SEED:/);
  });

  it('requires NATS credentials', async () => {
    const { code, stderr } = await startService('identity', { DOMIQ_ENV: 'production' });
    expect(code).toBe(78);
    expect(stderr).toMatch(/NATS_NKEY_SEED: NATS credentials are required/);
  });
});

describe('start-up validation of the keyring and the outbound allow-list', () => {
  it('a malformed DOMIQ_ENCRYPTION_KEYS or DOMIQ_ALLOWED_TARGETS exits 78 naming it, without echoing the key', async () => {
    const key = randomBytes(32).toString('base64');
    const { code, stderr } = await startService('resman-connector', { DOMIQ_ENCRYPTION_KEYS: `k1:${key},k1:${key}`, DOMIQ_ALLOWED_TARGETS: '127.0.0.1:99999' });
    expect(code).toBe(78);
    expect(stderr).toMatch(/DOMIQ_ENCRYPTION_KEYS: kid k1 appears twice/);
    expect(stderr).toMatch(/DOMIQ_ALLOWED_TARGETS: 127\.0\.0\.1:99999: port must be 1-65535/);
    expect(stderr).not.toContain(key);
  });
});
