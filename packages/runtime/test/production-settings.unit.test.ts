import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { DEV_ENCRYPTION_KEY } from '@domiq/secrets';
import { productionSettingProblems, readJwksKeyIds, type ProductionSettings } from '../src/production-settings.ts';

const ownKey = randomBytes(32).toString('base64');
const safe: ProductionSettings = {
  DOMIQ_ENV: 'production', GRPC_REFLECTION: undefined, NATS_NKEY_SEED_FILE: '/var/run/secrets/nats/seed',
  DOMIQ_ENCRYPTION_KEY: DEV_ENCRYPTION_KEY, DOMIQ_ENCRYPTION_KEYS: `k1:${ownKey}`, DOMIQ_JWKS: '/etc/domiq/jwks/jwks.json', jwksKeyIds: ['prod-2026-01'],
};
const variables = (s: ProductionSettings) => productionSettingProblems(s).map((p) => p.variable);

describe('productionSettingProblems', () => {
  it('finds nothing wrong with safe production settings, and checks nothing outside production', () => {
    expect(productionSettingProblems(safe)).toEqual([]);
    for (const env of ['development', 'test', 'staging', undefined]) {
      expect(productionSettingProblems({ DOMIQ_ENV: env, GRPC_REFLECTION: true, DOMIQ_ENCRYPTION_KEY: DEV_ENCRYPTION_KEY, jwksKeyIds: ['domiq-dev-1'] })).toEqual([]);
    }
  });

  it('refuses the development encryption key, alone or anywhere in the keyring', () => {
    expect(variables({ ...safe, DOMIQ_ENCRYPTION_KEYS: '' })).toEqual(['DOMIQ_ENCRYPTION_KEY']);
    expect(variables({ ...safe, DOMIQ_ENCRYPTION_KEYS: `k2:${ownKey},k1:${DEV_ENCRYPTION_KEY}` })).toEqual(['DOMIQ_ENCRYPTION_KEYS']);
    expect(productionSettingProblems({ ...safe, DOMIQ_ENCRYPTION_KEYS: '' })[0]!.problem).toMatch(/development encryption key/);
    // A service without secrets has neither variable: nothing to check.
    const { DOMIQ_ENCRYPTION_KEY: _a, DOMIQ_ENCRYPTION_KEYS: _b, ...noSecrets } = safe;
    expect(productionSettingProblems(noSecrets)).toEqual([]);
    expect(variables({ ...safe, DOMIQ_ENCRYPTION_KEYS: '', DOMIQ_ENCRYPTION_KEY: ownKey })).toEqual([]);
  });

  it('refuses gRPC reflection switched on', () => {
    expect(variables({ ...safe, GRPC_REFLECTION: true })).toEqual(['GRPC_REFLECTION']);
    expect(variables({ ...safe, GRPC_REFLECTION: false })).toEqual([]);
  });

  it('requires NATS credentials (a seed or a seed file)', () => {
    expect(variables({ ...safe, NATS_NKEY_SEED_FILE: undefined })).toEqual(['NATS_NKEY_SEED']);
    expect(variables({ ...safe, NATS_NKEY_SEED_FILE: undefined, NATS_NKEY_SEED: 'SU...' })).toEqual([]);
  });

  it('refuses a JWKS holding a development signing key', () => {
    expect(variables({ ...safe, jwksKeyIds: ['prod-2026-01', 'domiq-dev-3f2a'] })).toEqual(['DOMIQ_JWKS']);
    expect(productionSettingProblems({ ...safe, jwksKeyIds: ['domiq-dev-3f2a'] })[0]!.problem).toContain('domiq-dev-3f2a');
  });

  it('fails closed on the key set: required, and refused when it cannot be read', () => {
    expect(productionSettingProblems({ ...safe, DOMIQ_JWKS: undefined, jwksKeyIds: undefined })[0]).toMatchObject({ variable: 'DOMIQ_JWKS', problem: expect.stringContaining('required') });
    expect(productionSettingProblems({ ...safe, jwksKeyIds: undefined })[0]).toMatchObject({ variable: 'DOMIQ_JWKS', problem: expect.stringContaining('cannot be read') });
  });

  it('reports every problem at once', () => {
    expect(variables({ DOMIQ_ENV: 'production', GRPC_REFLECTION: true, DOMIQ_ENCRYPTION_KEY: DEV_ENCRYPTION_KEY, DOMIQ_ENCRYPTION_KEYS: '', jwksKeyIds: ['domiq-dev-1'] }))
      .toEqual(['DOMIQ_ENCRYPTION_KEY', 'GRPC_REFLECTION', 'NATS_NKEY_SEED', 'DOMIQ_JWKS']);
  });
});

describe('readJwksKeyIds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'domiq-jwks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the kids of a JWKS file, and gives undefined for what it cannot read', async () => {
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [{ kid: 'domiq-dev-1', kty: 'EC' }, { kid: 'prod', kty: 'EC' }] }));
    expect(await readJwksKeyIds(file)).toEqual(['domiq-dev-1', 'prod']);
    expect(await readJwksKeyIds(join(dir, 'missing.json'))).toBeUndefined();
    expect(await readJwksKeyIds(undefined)).toBeUndefined();
  });
});
