// `npm run rotate-secrets` against a real database migrated with the services' own migrations: rows under k1 move
// to k2 in batches, a second run changes nothing, an interrupted run resumes, rows a live transaction holds are
// skipped (not waited for) and picked up later, and every value still decrypts to what it was.
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '@domiq/db';
import { migrateService } from '@domiq/bus';
import { SecretBox } from '@domiq/secrets';
import { createTestDatabase, repoRoot, type TestDatabase } from '@domiq/testkit';
import { database as gatewayDatabase } from '../../services/channel-gateway/src/db/channel-gateway.database.ts';
import { database as connectorDatabase } from '../../services/resman-connector/src/db/resman-connector.database.ts';
import { discoverSecretColumns, rotateSecrets, type RotationTarget } from '../../scripts/rotate-secrets.ts';

const K1 = randomBytes(32).toString('base64');
const K2 = randomBytes(32).toString('base64');
const before = new SecretBox(`k1:${K1}`);
const during = new SecretBox(`k2:${K2},k1:${K1}`); // new key first, old key still readable
const after = new SecretBox(`k2:${K2}`); // old key removed once rotation is done

const CHANNELS = 25;
const INTEGRATIONS = 12;
let db: TestDatabase;
let targets: RotationTarget[];
/** Plaintext each row should decrypt to, by table and id. */
const expected = new Map<string, string>();

beforeAll(async () => {
  db = await createTestDatabase();
  for (const def of [gatewayDatabase, connectorDatabase]) {
    const schema = def.name.replaceAll('-', '_');
    // The platform's tables, then the services' own migrations, as a service does at start.
    const orm = await openDatabase({ schema, clientUrl: db.url, entities: def.entities, migrationsPath: def.migrationsPath, poolMax: 2 });
    await migrateService(orm, schema);
    await orm.close();
  }
  for (let i = 0; i < CHANNELS; i++) {
    const secret = JSON.stringify({ accountSid: `AC${i}`, authToken: randomBytes(16).toString('hex') });
    const [row] = await db.query<{ id: string }>(
      `insert into channel_gateway.channels (account_id, property_id, channel_key, type, name, credentials_encrypted) values ($1, $2, $3, 'sms', $4, $5) returning id`,
      [randomUUID(), randomUUID(), `key-${i}`, `channel ${i}`, before.encrypt(secret)],
    );
    expected.set(`channels:${row!.id}`, secret);
  }
  // A channel without credentials stays NULL.
  await db.query(`insert into channel_gateway.channels (account_id, property_id, channel_key, type, name) values ($1, $2, 'no-creds', 'sms', 'no creds')`, [randomUUID(), randomUUID()]);
  for (let i = 0; i < INTEGRATIONS; i++) {
    const secret = JSON.stringify({ integrationPartnerId: `P${i}`, apiKey: randomBytes(16).toString('hex') });
    const [row] = await db.query<{ id: string }>(
      `insert into resman_connector.resman_integration (account_id, property_id, resman_property_id, api_credentials, base_url, resman_account_id, default_agent_id, prospect_source_id)
       values ($1, $2, $3, $4, 'https://api.resman.example', 400, 'agent', 'source') returning id`,
      [randomUUID(), randomUUID(), randomUUID(), before.encrypt(secret)],
    );
    expected.set(`resman_integration:${row!.id}`, secret);
  }
  targets = await discoverSecretColumns();
});
afterAll(async () => db?.drop());

async function stored(): Promise<Map<string, string>> {
  const rows = [
    ...(await db.query<{ id: string; v: string }>(`select id, credentials_encrypted as v from channel_gateway.channels where credentials_encrypted is not null`)).map((r) => [`channels:${r.id}`, r.v] as const),
    ...(await db.query<{ id: string; v: string }>(`select id, api_credentials as v from resman_connector.resman_integration`)).map((r) => [`resman_integration:${r.id}`, r.v] as const),
  ];
  return new Map(rows);
}

const kids = async () => [...(await stored()).values()].reduce<Record<string, number>>((acc, v) => ({ ...acc, [during.kidOf(v)]: (acc[during.kidOf(v)] ?? 0) + 1 }), {});
const run = (opts: Partial<Parameters<typeof rotateSecrets>[0]> = {}) => rotateSecrets({ databaseUrl: db.url, box: during, targets, batchSize: 10, ...opts });

describe('rotate-secrets', () => {
  it('finds every service\'s declared secret columns', () => {
    expect(targets.map((t) => `${t.service} ${t.schema}.${t.table}.${t.column}`)).toEqual([
      'resman-connector resman_connector.resman_integration.api_credentials',
      'channel-gateway channel_gateway.channels.credentials_encrypted',
    ]);
  });

  it('stopped after one batch, it has moved exactly that batch; run again, it finishes the rest', async () => {
    const controller = new AbortController();
    const first = await run({ signal: controller.signal, onBatch: () => controller.abort() });
    // resman_connector comes first in the registry: one batch of 10 moved there, channels not started.
    expect(first).toEqual([{ service: 'resman-connector', column: 'resman_connector.resman_integration.api_credentials', reencrypted: 10, remaining: INTEGRATIONS - 10, failed: 0 }]);
    expect(await kids()).toEqual({ k2: 10, k1: CHANNELS + INTEGRATIONS - 10 });

    const second = await run();
    expect(second).toEqual([
      { service: 'resman-connector', column: 'resman_connector.resman_integration.api_credentials', reencrypted: INTEGRATIONS - 10, remaining: 0, failed: 0 },
      { service: 'channel-gateway', column: 'channel_gateway.channels.credentials_encrypted', reencrypted: CHANNELS, remaining: 0, failed: 0 },
    ]);
    expect(await kids()).toEqual({ k2: CHANNELS + INTEGRATIONS });
    const [nulls] = await db.query<{ n: number }>(`select count(*)::int as n from channel_gateway.channels where credentials_encrypted is null`);
    expect(nulls!.n).toBe(1);
  });

  it('leaves every value decrypting to the same plaintext, with the old key gone', async () => {
    const values = await stored();
    expect(values.size).toBe(expected.size);
    for (const [id, ciphertext] of values) {
      expect(after.decrypt(ciphertext), id).toBe(expected.get(id));
      expect(() => before.decrypt(ciphertext)).toThrow();
    }
  });

  it('a second run changes nothing', async () => {
    const snapshot = await stored();
    const reports = await run();
    expect(reports.map((r) => [r.reencrypted, r.remaining, r.failed])).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(await stored()).toEqual(snapshot);
  });

  it('skips rows a live transaction holds instead of waiting, and reports what it could not read', async () => {
    const [a, b] = await db.query<{ id: string }>(`select id from channel_gateway.channels where credentials_encrypted is not null order by id limit 2`);
    await db.query(`update channel_gateway.channels set credentials_encrypted = $1 where id = $2`, [before.encrypt('locked-one'), a!.id]);
    await db.query(`update channel_gateway.channels set credentials_encrypted = $1 where id = $2`, [new SecretBox(`kx:${randomBytes(32).toString('base64')}`).encrypt('unknown-key'), b!.id]);
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query(`select 1 from channel_gateway.channels where id = $1 for update`, [a!.id]);
      const lines: string[] = [];
      const reports = await run({ log: (l) => lines.push(l) });
      expect(reports[1]).toMatchObject({ reencrypted: 0, remaining: 2, failed: 1 });
      expect(lines.join('\n')).toContain(`row ${b!.id} cannot be re-encrypted (ciphertext is under key kx, which is not in the keyring)`);
    } finally {
      await holder.query('rollback');
      await holder.end();
    }
    const reports = await run();
    expect(reports[1]).toMatchObject({ reencrypted: 1, remaining: 1, failed: 1 });
    const [row] = await db.query<{ v: string }>(`select credentials_encrypted as v from channel_gateway.channels where id = $1`, [a!.id]);
    expect(after.decrypt(row!.v)).toBe('locked-one');
    expected.set(`channels:${a!.id}`, 'locked-one');
    expected.delete(`channels:${b!.id}`);
  });

  it('runs as a command: the keyring from the environment, a line per table, exit 0 when nothing is left', async () => {
    await db.query(`update channel_gateway.channels set credentials_encrypted = null where credentials_encrypted like 'v2.kx.%'`);
    const K3 = randomBytes(32).toString('base64');
    const cli = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'rotate-secrets.ts'), '--batch-size', '7'], {
      env: { ...process.env, DATABASE_URL: db.url, DOMIQ_ENCRYPTION_KEYS: `k3:${K3},k2:${K2}`, DOMIQ_ENCRYPTION_KEY: '' },
      encoding: 'utf8',
    });
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain('re-encrypting under kid k3 (keyring: k3, k2)');
    expect(cli.stdout).toContain(`resman-connector resman_connector.resman_integration.api_credentials: re-encrypted ${INTEGRATIONS}, remaining 0`);
    expect(cli.stdout).toContain(`channel-gateway channel_gateway.channels.credentials_encrypted: re-encrypted ${CHANNELS - 1}, remaining 0`);
    expect(cli.stdout).not.toContain(K3);
    const k3 = new SecretBox(`k3:${K3}`);
    const values = await stored();
    expect(values.size).toBe(expected.size);
    for (const [id, ciphertext] of values) expect(k3.decrypt(ciphertext), id).toBe(expected.get(id));
  });
});
