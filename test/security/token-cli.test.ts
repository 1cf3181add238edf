// `npm run token` (scripts/token.ts): prints a token the services accept, and refuses bad arguments.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier, generateSigningKey, writeKeyFiles } from '@domiq/auth';
import { registerTestSecret, repoRoot } from '@domiq/testkit';

const account = '0d0e0000-0000-4000-8000-0000000000a1';
const property = '0d0e0000-0000-4000-8000-0000000000b1';

async function keys() {
  const dir = mkdtempSync(join(tmpdir(), 'domiq-token-cli-'));
  const key = await generateSigningKey('cli-test');
  registerTestSecret(String(key.privateJwk.d), 'token-cli test key');
  return writeKeyFiles(dir, key);
}

function token(args: string[]) {
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'token.ts'), ...args], { encoding: 'utf8', cwd: repoRoot });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

describe('npm run token', () => {
  it('prints only a token that verifies, naming the caller it was asked for', async () => {
    const files = await keys();
    const pm = token(['--account', account, '--role', 'property_manager', '--property', property, '--ttl', '10m', '--key', files.signingKey]);
    expect(pm.code, pm.stderr).toBe(0);
    expect(pm.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    registerTestSecret(pm.stdout, 'token-cli user token');
    const verifier = createTokenVerifier({ jwks: files.jwks });
    expect(await verifier.verifyAuthorization(`Bearer ${pm.stdout}`)).toMatchObject({ kind: 'user', role: 'property_manager', accountId: account, propertyIds: [property] });
    const svc = token(['--service', 'conversations', '--key', files.signingKey]);
    registerTestSecret(svc.stdout, 'token-cli service token');
    expect(await verifier.verifyAuthorization(`Bearer ${svc.stdout}`)).toEqual({ kind: 'service', subject: 'service:conversations', service: 'conversations' });
  });

  it.each([
    [['--account', 'acme', '--role', 'admin'], '--account must be a UUID'],
    [['--account', account, '--role', 'root'], '--role must be one of'],
    [['--account', account, '--role', 'property_manager'], 'needs at least one --property'],
    [['--account', account, '--role', 'admin', '--ttl', 'forever'], '--ttl'],
    [['--service', 'payments'], '--service must be one of'],
    [['--acount', account], 'Unknown option'],
  ])('refuses %j with exit 2 and says why', async (args, reason) => {
    const files = await keys();
    const r = token([...args, '--key', files.signingKey]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(reason);
  });
});
