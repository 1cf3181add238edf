// Generates the next migration (and snapshot) of one service from its entities:
//   node scripts/migration-create.ts <service> [name]
// It diffs the committed snapshot against the entities using a scratch database. The platform's tables (event_log,
// publications, processed events) are not the service's: @domiq/bus migrates them itself (packages/bus/src/migrations),
// so they are left out of the diff. A service's first migration is followed by one adding the seed's updated_at
// triggers; add service-specific triggers and views to a migration by hand.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase } from '@domiq/db';

const [service, name] = process.argv.slice(2);
if (!service) throw new Error('usage: migration-create.ts <service> [name]');
const schema = service.replaceAll('-', '_');
const dbFile = join(import.meta.dirname, '..', 'services', service, 'src', 'db', `${service}.database.ts`);
const { database } = (await import(dbFile)) as { database: { entities: any[]; migrationsPath: string; updatedAtTables?: string[] } };
const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const scratch = `domiq_migration_scratch_${process.pid}`;
const admin = new pg.Client({ connectionString: base });
await admin.connect();
await admin.query(`create database ${scratch}`);
const url = new URL(base);
url.pathname = `/${scratch}`;
const initial = !existsSync(database.migrationsPath) || readdirSync(database.migrationsPath).filter((f) => f.endsWith('.ts')).length === 0;
try {
  const orm = await openDatabase({ schema, clientUrl: url.toString(), entities: database.entities, migrationsPath: database.migrationsPath });
  const result = await orm.migrator.create(undefined, false, false, name);
  console.log(result.fileName ? `created ${result.fileName}` : 'no changes');
  await orm.close();
  if (initial && result.fileName) {
    const stamp = result.fileName.match(/Migration(\d+)/)?.[1] ?? '0';
    const file = `Migration${String(Number(stamp) + 1)}_platform.ts`;
    const tables = database.updatedAtTables ?? [];
    writeFileSync(join(database.migrationsPath, file), `import { Migration } from '@mikro-orm/migrations';
import { updatedAtTriggerSql } from '@domiq/db';

// The seed's updated_at triggers (shared definition in @domiq/db). The outbox tables are @domiq/bus's own
// migration set (packages/bus/src/migrations), applied by the platform before these.
export class Migration${String(Number(stamp) + 1)}_platform extends Migration {
  override up(): void {
    for (const sql of [
${tables.map((t) => `      ...updatedAtTriggerSql('${schema}', '${t}'),`).join('\n')}
    ]) this.addSql(sql);
  }
}
`);
    console.log(`created ${file}`);
  }
} finally {
  await admin.query(`drop database if exists ${scratch} with (force)`);
  await admin.end();
}
