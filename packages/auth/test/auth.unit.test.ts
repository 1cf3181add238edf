import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SignJWT, importJWK } from 'jose';
import {
  AuthenticationError, callerFromClaims, createTokenVerifier, devKeyIds, generateSigningKey, mintToken, parseTtl, ServiceToken, writeKeyFiles,
} from '@domiq/auth';

const account = '0d0e0000-0000-4000-8000-0000000000aa';
const property = '0d0e0000-0000-4000-8000-0000000000bb';
const user = '0d0e0000-0000-4000-8000-0000000000cc';

async function keyDir(kid = `k-${crypto.randomUUID().slice(0, 6)}`) {
  const dir = mkdtempSync(join(tmpdir(), 'domiq-auth-test-'));
  const key = await generateSigningKey(kid);
  return { dir, key, files: writeKeyFiles(dir, key) };
}

describe('callerFromClaims', () => {
  it('reads a user and a service caller', () => {
    expect(callerFromClaims({ sub: user, role: 'agent', account_id: account })).toEqual({ kind: 'user', subject: user, role: 'agent', accountId: account, propertyIds: [] });
    expect(callerFromClaims({ sub: 'service:conversations' })).toEqual({ kind: 'service', subject: 'service:conversations', service: 'conversations' });
  });

  it.each([
    [{ sub: 'service:payments' }, 'unknown service'],
    [{ sub: 'bob', role: 'agent', account_id: account }, 'sub must be'],
    [{ sub: user, role: 'root', account_id: account }, 'role must be'],
    [{ sub: user, role: 'agent', account_id: 'acme' }, 'account_id'],
    [{ sub: user, role: 'property_manager', account_id: account }, 'property_ids'],
    [{ sub: user, role: 'property_manager', account_id: account, property_ids: ['x'] }, 'property_ids'],
  ])('refuses inconsistent claims %j', (claims, reason) => {
    expect(() => callerFromClaims(claims)).toThrow(AuthenticationError);
    expect(() => callerFromClaims(claims)).toThrow(reason);
  });
});

describe('token verifier', () => {
  it('accepts a token it can verify and says why it refuses the others', async () => {
    const { key, files } = await keyDir();
    const verifier = createTokenVerifier({ jwks: files.jwks });
    const token = await mintToken(key.privateJwk, { userId: user, role: 'property_manager', accountId: account, propertyIds: [property] }, { ttlSeconds: 60 });
    expect(await verifier.verifyAuthorization(`Bearer ${token}`)).toMatchObject({ kind: 'user', role: 'property_manager', propertyIds: [property] });
    await expect(verifier.verifyAuthorization(undefined)).rejects.toThrow('missing authorization');
    await expect(verifier.verifyAuthorization(token)).rejects.toThrow('Bearer');
    await expect(verifier.verifyAuthorization('Bearer abc.def.ghi')).rejects.toThrow(AuthenticationError);
    const expired = await mintToken(key.privateJwk, { service: 'identity' }, { ttlSeconds: -5 });
    await expect(verifier.verifyAuthorization(`Bearer ${expired}`)).rejects.toThrow('expired');
    const wrongAudience = await mintToken(key.privateJwk, { service: 'identity' }, { ttlSeconds: 60, audience: 'someone-else' });
    await expect(verifier.verifyAuthorization(`Bearer ${wrongAudience}`)).rejects.toThrow('aud');
    const wrongIssuer = await mintToken(key.privateJwk, { service: 'identity' }, { ttlSeconds: 60, issuer: 'evil' });
    await expect(verifier.verifyAuthorization(`Bearer ${wrongIssuer}`)).rejects.toThrow('iss');
    const stranger = await generateSigningKey(key.kid); // same kid, another key: the signature gives it away
    const forged = await mintToken(stranger.privateJwk, { userId: user, role: 'admin', accountId: account }, { ttlSeconds: 60 });
    await expect(verifier.verifyAuthorization(`Bearer ${forged}`)).rejects.toThrow('signature');
    // alg=none and a symmetric key are not accepted whatever the header says.
    const hs = await new SignJWT({ role: 'admin', account_id: account }).setProtectedHeader({ alg: 'HS256', kid: key.kid }).setSubject(user)
      .setIssuer('domiq').setAudience('domiq').setExpirationTime('1h').sign(new TextEncoder().encode('x'.repeat(32)));
    await expect(verifier.verifyAuthorization(`Bearer ${hs}`)).rejects.toThrow(AuthenticationError);
    const noExp = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: key.kid }).setSubject('service:identity').setIssuer('domiq').setAudience('domiq')
      .sign(await importJWK(key.privateJwk, 'ES256'));
    await expect(verifier.verifyAuthorization(`Bearer ${noExp}`)).rejects.toThrow('exp');
  });

  it('picks up a key added to the JWKS file (rotation) without a restart', async () => {
    const { dir, files } = await keyDir('old');
    const verifier = createTokenVerifier({ jwks: files.jwks });
    const next = await generateSigningKey('new');
    const token = await mintToken(next.privateJwk, { service: 'identity' }, { ttlSeconds: 60 });
    await expect(verifier.verifyAuthorization(`Bearer ${token}`)).rejects.toThrow('unknown key');
    writeKeyFiles(dir, next);
    const future = new Date(Date.now() + 10_000);
    utimesSync(files.jwks, future, future);
    expect(JSON.parse(readFileSync(files.jwks, 'utf8')).keys.map((k: { kid: string }) => k.kid)).toEqual(['new', 'old']);
    // The file is re-read at most every few seconds.
    await expect.poll(() => verifier.verifyAuthorization(`Bearer ${token}`).then(() => true, () => false), { timeout: 8_000, interval: 250 }).toBe(true);
  });

  it('forgets what a removed key signed (the key set file changed), and refuses tokens without a kid', async () => {
    const { dir, key, files } = await keyDir('only');
    const verifier = createTokenVerifier({ jwks: files.jwks });
    const token = await mintToken(key.privateJwk, { service: 'identity' }, { ttlSeconds: 600 });
    await verifier.verifyAuthorization(`Bearer ${token}`); // now cached
    const other = await generateSigningKey('replacement');
    writeFileSync(files.jwks, JSON.stringify({ keys: [other.publicJwk] }));
    const future = new Date(Date.now() + 20_000);
    utimesSync(files.jwks, future, future);
    await expect.poll(() => verifier.verifyAuthorization(`Bearer ${token}`).then(() => 'accepted', (e: Error) => e.message), { timeout: 8_000, interval: 250 })
      .toBe('token signed by an unknown key');
    const noKid = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setSubject('service:identity').setIssuer('domiq').setAudience('domiq')
      .setExpirationTime('1h').sign(await importJWK(other.privateJwk, 'ES256'));
    await expect(verifier.verifyAuthorization(`Bearer ${noKid}`)).rejects.toThrow('no kid');
    expect(dir).toBeTruthy();
  });

  it('in production refuses tokens of development keys even when such a key is in the set', async () => {
    const { key, files } = await keyDir('domiq-dev-abcd');
    const token = await mintToken(key.privateJwk, { service: 'identity' }, { ttlSeconds: 60 });
    await expect(createTokenVerifier({ jwks: files.jwks }).verifyAuthorization(`Bearer ${token}`)).resolves.toMatchObject({ service: 'identity' });
    await expect(createTokenVerifier({ jwks: files.jwks, refuseDevKeys: true }).verifyAuthorization(`Bearer ${token}`)).rejects.toThrow('development key');
  });

  it('takes a JWKS URL only over https (http on loopback for local development)', () => {
    expect(() => createTokenVerifier({ jwks: 'http://keys.example.com/jwks.json' })).toThrow('https');
    expect(() => createTokenVerifier({ jwks: 'https://keys.example.com/jwks.json' })).not.toThrow();
    expect(() => createTokenVerifier({ jwks: 'http://127.0.0.1:9999/jwks.json' })).not.toThrow();
  });

  it('reports development keys by kid', () => {
    expect(devKeyIds(['domiq-dev-1a2b', 'prod-2026-11'])).toEqual(['domiq-dev-1a2b']);
  });
});

describe('service token and ttl', () => {
  it('re-reads a renewed token file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'domiq-token-'));
    const file = join(dir, 'svc.token');
    writeFileSync(file, 'first\n');
    const t = new ServiceToken({ file });
    expect(t.get()).toBe('first');
    expect(JSON.stringify({ t })).not.toContain('first');
    writeFileSync(file, 'second');
    const future = new Date(Date.now() + 10_000);
    utimesSync(file, future, future);
    await expect.poll(() => t.get(), { timeout: 8_000, interval: 250 }).toBe('second');
    expect(() => new ServiceToken({})).toThrow('DOMIQ_SERVICE_TOKEN');
  });

  it('parses ttl values', () => {
    expect(parseTtl('90')).toBe(90);
    expect(parseTtl('15m')).toBe(900);
    expect(parseTtl('1h')).toBe(3600);
    expect(parseTtl('7d')).toBe(604800);
    expect(() => parseTtl('soon')).toThrow('ttl');
  });
});
