import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { maskSecret, scanLogDir, secretNeedles } from '../src/log-scan.ts';
import { isSecretEnvName, readRegisteredSecrets, registerTestSecret, secretsInEnv } from '../src/test-logs.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'log-scan-test-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const SECRET = 'tok-3f9a1c7e5b2d4068';
const secret = { value: SECRET, label: 'twilio auth token' };

function scanLines(lines: string[], secrets = [secret]) {
  const dir = tempDir();
  writeFileSync(join(dir, 'some.test-channel-gateway.log'), lines.join('\n') + '\n');
  return scanLogDir(dir, secrets);
}

describe('the log secret scan', () => {
  it('finds a secret verbatim, with its file and line, and masks it in the report', () => {
    const { findings, files } = scanLines(['{"msg":"ok"}', '{"msg":"channel upserted"}', `{"msg":"oops","auth_token":"${SECRET}"}`]);
    expect(files).toBe(1);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ line: 3, encoding: 'verbatim', label: 'twilio auth token', masked: maskSecret(SECRET) });
    expect(findings[0]!.file).toMatch(/some\.test-channel-gateway\.log$/);
    expect(findings[0]!.excerpt).not.toContain(SECRET);
    expect(findings[0]!.masked).not.toContain(SECRET.slice(2));
  });

  it('finds it base64-encoded at every alignment, base64url, URL- and form-encoded, JSON-escaped and hex', () => {
    const quoted = 'pa"ss wörd/+?&=1234';
    const embedded = (prefix: string) => Buffer.from(`${prefix}${SECRET}:trailing`).toString('base64');
    const lines = [
      `{"authorization":"Basic ${embedded('')}"}`,
      `{"authorization":"Basic ${embedded('u')}"}`,
      `{"authorization":"Basic ${embedded('us')}"}`,
      `{"x":"${Buffer.from(`ab${SECRET}`).toString('base64url')}"}`,
      `{"url":"/cb?token=${encodeURIComponent(SECRET + '/x')}"}`,
      `{"hex":"${Buffer.from(SECRET).toString('hex')}"}`,
      `{"body":"p=${new URLSearchParams({ p: quoted }).toString().slice(2)}"}`,
      JSON.stringify({ value: quoted }),
    ];
    const { findings } = scanLines(lines, [secret, { value: quoted, label: 'odd' }]);
    expect(findings.map((f) => f.line).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(new Set(findings.map((f) => f.encoding))).toEqual(new Set(['base64', 'verbatim', 'hex', 'form-encoded', 'json-escaped']));
    // A value whose base64 has '+' and '/' is found in base64url too.
    const binaryish = '>>>???>>>???~~~';
    expect(Buffer.from(binaryish).toString('base64')).toMatch(/[+/]/);
    const url = scanLines([`{"state":"${Buffer.from(binaryish).toString('base64url')}"}`], [{ value: binaryish, label: 'b' }]);
    expect(url.findings.map((f) => f.encoding)).toEqual(['base64url']);
  });

  it('finds a base64 key as its raw bytes in other encodings', () => {
    const key = Buffer.alloc(32, 'domiq-test-key').toString('base64');
    const { findings } = scanLines([`{"k":"${Buffer.from(key, 'base64').toString('hex')}"}`], [{ value: key, label: 'encryption key' }]);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.encoding).toBe('decoded-hex');
  });

  it('reports nothing for clean logs, redacted values or other tokens, and ignores non-log files', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a-identity.log'), `{"auth_token":"[redacted]"}\n{"msg":"tok-3f9a1c7e5b2d4069"}\n`);
    writeFileSync(join(dir, 'notes.txt'), SECRET);
    const result = scanLogDir(dir, [secret, { value: 'short', label: 'too short to scan' }]);
    expect(result.findings).toEqual([]);
    expect(result.files).toBe(1);
  });

  it('stays fast over many secrets and megabytes of logs', () => {
    const secrets = Array.from({ length: 300 }, (_, i) => ({ value: `secret-${i}-${crypto.randomUUID()}`, label: `s${i}` }));
    const line = JSON.stringify({ level: 'trace', msg: 'twilio message received', channel_key: 'acme-sms', message_sid: `SM${'0'.repeat(32)}` });
    const lines = Array.from({ length: 40_000 }, () => line);
    lines[33_333] = `{"leak":"${secrets[123]!.value}"}`;
    const started = performance.now();
    const { findings } = scanLines(lines, secrets);
    expect(findings.map((f) => f.line)).toEqual([33_334]);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(secretNeedles(secrets[0]!).length).toBeGreaterThan(5);
  });
});

describe('the secret registry', () => {
  it('appends one JSON line per secret to $DOMIQ_TEST_LOG_DIR/secrets.txt, once each, ignoring short values', () => {
    const dir = tempDir();
    const before = process.env.DOMIQ_TEST_LOG_DIR;
    process.env.DOMIQ_TEST_LOG_DIR = dir;
    try {
      const multiLine = `-----BEGIN KEY-----\nMIIabc${crypto.randomUUID()}\n-----END KEY-----`;
      expect(registerTestSecret(`reg-${SECRET}`, 'one')).toBe(`reg-${SECRET}`);
      registerTestSecret(`reg-${SECRET}`, 'again');
      registerTestSecret('short');
      registerTestSecret(undefined);
      registerTestSecret(multiLine, 'pem');
      expect(readFileSync(join(dir, 'secrets.txt'), 'utf8').trim().split('\n')).toHaveLength(2);
      expect(readRegisteredSecrets(dir)).toEqual([{ value: `reg-${SECRET}`, label: 'one' }, { value: multiLine, label: 'pem' }]);
    } finally {
      if (before === undefined) delete process.env.DOMIQ_TEST_LOG_DIR;
      else process.env.DOMIQ_TEST_LOG_DIR = before;
    }
  });

  it('treats *_KEY, *_TOKEN, *_SECRET and *SEED* variables as secrets, reading *_FILE ones', () => {
    for (const name of ['DOMIQ_ENCRYPTION_KEY', 'DOMIQ_ENCRYPTION_KEYS', 'DOMIQ_SERVICE_TOKEN', 'CLIENT_SECRET', 'NATS_NKEY_SEED', 'NATS_NKEY_SEED_FILE', 'DOMIQ_SERVICE_TOKEN_FILE', 'DB_PASSWORD']) {
      expect(isSecretEnvName(name), name).toBe(true);
    }
    for (const name of ['CHANNEL_KEY_PREFIX', 'NATS_URL', 'LOG_LEVEL', 'DOMIQ_PUBLIC_KEY', 'HTTP_PORT']) expect(isSecretEnvName(name), name).toBe(false);
    const dir = tempDir();
    const file = join(dir, 'seed.nk');
    writeFileSync(file, 'SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY\n');
    const found = secretsInEnv({ NATS_NKEY_SEED_FILE: file, DOMIQ_ENCRYPTION_KEY: 'a2V5LWtleS1rZXkta2V5', LOG_LEVEL: 'trace', X_TOKEN: 'short' });
    expect(found.map((s) => s.value)).toEqual(['SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY', 'a2V5LWtleS1rZXkta2V5']);
    // A key ring: the whole value, each entry, and each entry's key.
    const ring = secretsInEnv({ DOMIQ_ENCRYPTION_KEYS: 'k2:bmV3LWtleS1uZXcta2V5,k1:b2xkLWtleS1vbGQta2V5' }).map((s) => s.value);
    expect(ring).toEqual(expect.arrayContaining(['k2:bmV3LWtleS1uZXcta2V5,k1:b2xkLWtleS1vbGQta2V5', 'bmV3LWtleS1uZXcta2V5', 'b2xkLWtleS1vbGQta2V5']));
  });
});
