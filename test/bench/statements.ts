// `node test/bench/statements.ts`: what PostgreSQL does per message. Runs the full stack, a warm-up, then resets
// pg_stat_statements and sends a burst (STATEMENTS_MESSAGES, default 2000, every message from a new customer), and
// prints, per message: statements, statement time (execution + planning, milliseconds; lock waits included) and WAL,
// then the STATEMENTS_TOP (45) statements by time with their calls, time, rows and WAL bytes per message.
//
// Needs the pg_stat_statements module loaded by the server, which this machine's PostgreSQL does not do by default
// (a restart is needed; put the settings back afterwards):
//   psql -h 127.0.0.1 -U postgres -c "alter system set shared_preload_libraries = 'pg_stat_statements'"
//   pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main restart
//   psql -h 127.0.0.1 -U postgres -c "alter system set pg_stat_statements.track_planning = on" -c "select pg_reload_conf()"
//   ... node test/bench/statements.ts ...
//   psql -h 127.0.0.1 -U postgres -c "alter system reset shared_preload_libraries" -c "alter system reset pg_stat_statements.track_planning"
//   pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main restart
// The figures cover every database of the server: run it with nothing else using PostgreSQL. Diagnostic only: it asserts nothing. docs/hot-path.md ("Still to come") has what it showed.
import pg from 'pg';
import { startFullStack } from './full-stack.ts';
import { burst, knob } from './measure.ts';

const messages = knob('STATEMENTS_MESSAGES', 2000);
const top = knob('STATEMENTS_TOP', 45);
const admin = new pg.Client({ connectionString: process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
await admin.connect();
const loaded = await admin.query<{ on: boolean }>(`select 'pg_stat_statements' = any(regexp_split_to_array(current_setting('shared_preload_libraries'), '\\s*,\\s*')) as on`);
if (!loaded.rows[0]?.on) {
  process.stderr.write('pg_stat_statements is not in shared_preload_libraries: see the recipe at the top of test/bench/statements.ts\n');
  await admin.end();
  process.exit(2);
}
await admin.query('create extension if not exists pg_stat_statements');
const per = (x: number | string) => Number(x) / messages;
const sys = await startFullStack({ senders: 0, drainTimeoutMs: 180_000 });
try {
  await burst(sys, 'a', 200, 16);
  await admin.query('select pg_stat_statements_reset()');
  await burst(sys, 'b', messages, 16);
  const filter = `query not like '%pg_stat_statements%'`;
  const total = (await admin.query(`select sum(calls) as calls, sum(total_exec_time + total_plan_time) as ms, sum(wal_bytes) as wal from pg_stat_statements where ${filter}`)).rows[0];
  console.log(`per message: ${per(total.calls).toFixed(1)} statements, ${per(total.ms).toFixed(3)} ms, ${(per(total.wal) / 1024).toFixed(1)} KiB of WAL`);
  console.log('calls/msg  ms/msg  rows/msg  WAL B/msg  statement');
  const rows = await admin.query(`select calls, total_exec_time + total_plan_time as ms, rows, wal_bytes, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) as q
      from pg_stat_statements where ${filter} order by total_exec_time + total_plan_time desc limit $1`, [top]);
  for (const r of rows.rows) {
    console.log(per(r.calls).toFixed(2).padStart(9), per(r.ms).toFixed(3).padStart(7), per(r.rows).toFixed(1).padStart(9), String(Math.round(per(r.wal_bytes))).padStart(10), ' ', r.q);
  }
} finally {
  await sys.stop();
  await admin.end();
}
