// `npm run rotate-secrets`: re-encrypts every stored secret that is not under the current encryption key.
// Reads DATABASE_URL and the keyring (DOMIQ_ENCRYPTION_KEYS, else DOMIQ_ENCRYPTION_KEY) from the environment, the
// same variables the services read. Runs online beside live services: small batches, each one transaction that
// locks only its own rows (FOR UPDATE SKIP LOCKED), so it can be stopped (Ctrl-C ends it after the current batch)
// and run again; a second run finds nothing to do. Procedure: docs/secrets.md.
//
//   node scripts/rotate-secrets.ts [--batch-size N]
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { SERVICE_NAMES, registry } from '@domiq/proto/services';
import { DEV_ENCRYPTION_KEY, SecretBox, type SecretColumn } from '@domiq/secrets';

const root = join(import.meta.dirname, '..');

export interface RotationTarget extends SecretColumn {
  service: string;
  schema: string;
}

export interface RotationReport {
  service: string;
  /** `schema.table.column` */
  column: string;
  reencrypted: number;
  /** Rows still not under the current key after this run (locked by a live transaction, failed, or interrupted). */
  remaining: number;
  /** Rows whose value could not be decrypted with the keyring (their ids are logged). */
  failed: number;
}

export interface RotateOptions {
  databaseUrl: string;
  box: SecretBox;
  targets: RotationTarget[];
  batchSize?: number;
  /** Aborting stops after the batch in flight (which commits): the run is then resumable. */
  signal?: AbortSignal;
  /** Called after each committed batch. */
  onBatch?: (target: RotationTarget, rewritten: number) => void;
  log?: (line: string) => void;
}

/** Every service's declared secret columns (`secretColumns` next to its database definition). */
export async function discoverSecretColumns(): Promise<RotationTarget[]> {
  const targets: RotationTarget[] = [];
  for (const service of SERVICE_NAMES) {
    const file = join(root, 'services', service, 'src', 'db', `${service}.database.ts`);
    if (!existsSync(file)) continue;
    const mod = (await import(pathToFileURL(file).href)) as { secretColumns?: SecretColumn[] };
    for (const c of mod.secretColumns ?? []) targets.push({ ...c, service, schema: registry[service].schema });
  }
  return targets;
}

const ident = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain SQL identifier: ${name}`);
  return `"${name}"`;
};

/** The kid of a stored value, as SecretBox.kidOf reads it (v1 = k0); NULL for anything unrecognised. */
const kidSql = (col: string) => `(case split_part(${col}, '.', 1) when 'v1' then 'k0' when 'v2' then split_part(${col}, '.', 2) end)`;

export async function rotateSecrets(opts: RotateOptions): Promise<RotationReport[]> {
  const { box, signal } = opts;
  const batchSize = opts.batchSize ?? 100;
  const log = opts.log ?? (() => undefined);
  const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 1, application_name: 'domiq-rotate-secrets' });
  const reports: RotationReport[] = [];
  try {
    for (const t of opts.targets) {
      const table = `${ident(t.schema)}.${ident(t.table)}`;
      const col = ident(t.column);
      const key = ident(t.key ?? 'id');
      const stale = `${col} is not null and ${kidSql(col)} is distinct from $1`;
      const failedIds = new Set<string>();
      let reencrypted = 0;
      // Passes over the table in key order; a later pass picks up rows a live transaction held during the first.
      for (let pass = 0; !signal?.aborted; pass++) {
        let after: string | null = null;
        let movedThisPass = 0;
        while (!signal?.aborted) {
          const client = await pool.connect();
          let rows: Array<{ k: string; v: string }>;
          try {
            await client.query('begin');
            const params: unknown[] = [box.currentKid, [...failedIds], batchSize];
            if (after !== null) params.push(after);
            ({ rows } = await client.query<{ k: string; v: string }>(
              `select ${key}::text as k, ${col} as v from ${table}
                where ${stale} and not (${key}::text = any($2::text[]))${after !== null ? ` and ${key} > $4` : ''}
                order by ${key} limit $3 for update skip locked`,
              params,
            ));
            let rewritten = 0;
            for (const row of rows) {
              let next: string;
              try {
                next = box.reencrypt(row.v);
              } catch (err) {
                failedIds.add(row.k);
                log(`${t.schema}.${t.table}.${t.column}: row ${row.k} cannot be re-encrypted (${(err as Error).message})`);
                continue;
              }
              await client.query(`update ${table} set ${col} = $1 where ${key} = $2`, [next, row.k]);
              rewritten++;
            }
            await client.query('commit');
            reencrypted += rewritten;
            movedThisPass += rewritten;
            if (rows.length > 0) opts.onBatch?.(t, rewritten);
          } catch (err) {
            await client.query('rollback').catch(() => undefined);
            throw err;
          } finally {
            client.release();
          }
          if (rows.length < batchSize) break;
          after = rows.at(-1)!.k;
        }
        if (movedThisPass === 0) break;
      }
      const [{ n }] = (await pool.query<{ n: number }>(`select count(*)::int as n from ${table} where ${stale}`, [box.currentKid])).rows as [{ n: number }];
      reports.push({ service: t.service, column: `${t.schema}.${t.table}.${t.column}`, reencrypted, remaining: n, failed: failedIds.size });
      if (signal?.aborted) break;
    }
  } finally {
    await pool.end();
  }
  return reports;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const sizeAt = args.indexOf('--batch-size');
  const batchSize = sizeAt >= 0 ? Number(args[sizeAt + 1]) : 100;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    process.stderr.write('usage: rotate-secrets [--batch-size N]\n');
    process.exit(2);
  }
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/domiq';
  let box: SecretBox;
  try {
    // The services' own defaults: DOMIQ_ENCRYPTION_KEYS, else DOMIQ_ENCRYPTION_KEY, else the development key.
    box = SecretBox.fromConfig({ DOMIQ_ENCRYPTION_KEYS: process.env.DOMIQ_ENCRYPTION_KEYS, DOMIQ_ENCRYPTION_KEY: process.env.DOMIQ_ENCRYPTION_KEY ?? DEV_ENCRYPTION_KEY });
  } catch (err) {
    process.stderr.write(`rotate-secrets: DOMIQ_ENCRYPTION_KEYS: ${(err as Error).message}\n`);
    process.exit(78);
  }
  // Rotating *to* the development key would undo what rotation is for, wherever it runs.
  if (box.holdsKey(DEV_ENCRYPTION_KEY) && process.env.DOMIQ_ENV === 'production') {
    process.stderr.write('rotate-secrets: DOMIQ_ENCRYPTION_KEYS: holds the development encryption key, refused with DOMIQ_ENV=production\n');
    process.exit(78);
  }
  const controller = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('rotate-secrets: stopping after the current batch (run again to resume)\n');
    controller.abort();
  });
  process.once('SIGTERM', () => controller.abort());
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`rotate-secrets: re-encrypting under kid ${box.currentKid} (keyring: ${box.kids.join(', ')})`);
  const reports = await rotateSecrets({ databaseUrl, box, targets: await discoverSecretColumns(), batchSize, signal: controller.signal, log });
  for (const r of reports) {
    log(`${r.service} ${r.column}: re-encrypted ${r.reencrypted}, remaining ${r.remaining}${r.failed ? `, failed ${r.failed}` : ''}`);
  }
  const left = reports.reduce((n, r) => n + r.remaining, 0);
  if (controller.signal.aborted) log('rotate-secrets: interrupted; run it again to finish');
  else if (left === 0) log(`rotate-secrets: done; every stored secret is under ${box.currentKid}. Remove the old keys once every replica of every service runs with ${box.currentKid} first (a replica still encrypting under an old key would write values only the old key opens; run this again after the roll-out to be sure).`);
  else log(`rotate-secrets: ${left} value(s) are not under ${box.currentKid} yet; run again (keep the old keys until it reports 0)`);
  process.exit(left === 0 && !controller.signal.aborted ? 0 : 1);
}

if (import.meta.main) await main();
