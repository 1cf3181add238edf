// The project's own commands, run on Node 24 by scripts/bootstrap.mjs:
//   start  install, start PostgreSQL if needed and the project's own authenticated nats-server, run all services +
//          simulators, seed a demo, send demo traffic
//   test   install, start PostgreSQL if needed, run the whole vitest suite (unit, integration, end-to-end)
//   bench  install, start infrastructure, run the benchmarks (test/bench/*.bench.ts, or those named; JSON lines on stdout)
//   rotate-secrets  re-encrypt stored secrets under the current key of DOMIQ_ENCRYPTION_KEYS (docs/secrets.md)
//   annotate  annotate JSON-lines messages from stdin to stdout with the offline annotator (packages/annotator)
import { spawn, spawnSync, type StdioOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const root = join(import.meta.dirname, '..');
const command = process.argv[2] ?? 'start';
const log = (msg: string) => process.stderr.write(`[domiq] ${msg}\n`);

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdio?: StdioOptions } = {}): number {
  const r = spawnSync(cmd, args, { stdio: opts.stdio ?? 'inherit', cwd: opts.cwd ?? root, env: opts.env ?? process.env });
  return r.status ?? 1;
}

/** With `quiet`, the install's output goes to stderr and it leaves stdin alone (for commands whose stdout is data). */
function ensureDependencies(quiet = false): void {
  const lock = readFileSync(join(root, 'pnpm-lock.yaml'));
  const stamp = join(root, 'node_modules', '.domiq-install-stamp');
  const hash = createHash('sha256').update(lock).update(process.version).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return;
  log('installing dependencies (pnpm install --frozen-lockfile)');
  const pnpm = process.env.DOMIQ_PNPM ?? join(root, '.tooling', 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');
  if (run(process.execPath, [pnpm, 'install', '--frozen-lockfile', '--prefer-offline'], quiet ? { stdio: ['ignore', 2, 2] } : {}) !== 0) {
    log('pnpm install failed');
    process.exit(1);
  }
  writeFileSync(stamp, hash);
}

async function portOpen(host: string, port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => (s.destroy(), resolve(false)));
  });
}

async function waitForPort(host: string, port: number, seconds: number): Promise<boolean> {
  for (let i = 0; i < seconds * 4; i++) {
    if (await portOpen(host, port)) return true;
    await sleep(250);
  }
  return false;
}

function which(bin: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

async function ensurePostgres(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const host = url.hostname;
  const port = Number(url.port || 5432);
  if (!(await portOpen(host, port))) {
    const ctl = which('pg_ctlcluster');
    const clusters = existsSync('/etc/postgresql') ? spawnSync('ls', ['/etc/postgresql'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean) : [];
    if (!ctl || clusters.length === 0 || (host !== '127.0.0.1' && host !== 'localhost')) {
      log(`PostgreSQL is not reachable at ${host}:${port}. Install PostgreSQL 15+ (apt-get install postgresql) or set DATABASE_URL to a running server.`);
      process.exit(1);
    }
    log(`starting PostgreSQL ${clusters.at(-1)} (pg_ctlcluster)`);
    run(ctl, ['--skip-systemctl-redirect', clusters.at(-1)!, 'main', 'start']);
    if (!(await waitForPort(host, port, 30))) {
      log('PostgreSQL did not start; see /var/log/postgresql');
      process.exit(1);
    }
  }
  // Create the application database if it is missing.
  const pg = (await import('pg')).default;
  const admin = new URL(databaseUrl);
  const dbName = admin.pathname.slice(1) || 'domiq';
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [dbName]);
  if (!rowCount) {
    log(`creating database ${dbName}`);
    await client.query(`create database "${dbName}"`);
  }
  await client.end();
}

function natsBinary(): string | undefined {
  return [process.env.NATS_SERVER_BIN, '/usr/sbin/nats-server', which('nats-server')].find((p): p is string => !!p && existsSync(p));
}

async function ensureNats(natsUrl: string): Promise<void> {
  const url = new URL(natsUrl.replace(/^nats:/, 'http:'));
  const port = Number(url.port || 4222);
  if (await portOpen(url.hostname, port)) return;
  const bin = natsBinary();
  if (!bin || (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost')) {
    log(`NATS is not reachable at ${natsUrl}. Install nats-server (apt-get install nats-server) or set NATS_URL to a server with JetStream.`);
    process.exit(1);
  }
  log('starting nats-server with JetStream');
  const daemon = which('start-stop-daemon');
  if (daemon) {
    run(daemon, ['--start', '--oknodo', '--background', '--exec', bin, '--', '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', '/var/lib/nats-server', '-l', '/var/log/nats-server.log']);
  } else {
    spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(root, '.data', 'nats')], { detached: true, stdio: 'ignore' }).unref();
  }
  if (!(await waitForPort(url.hostname, port, 20))) {
    log('nats-server did not start');
    process.exit(1);
  }
}

function requireNatsForTests(): void {
  if (!natsBinary()) {
    log('the test suite runs its own nats-server processes: install nats-server (apt-get install nats-server) or set NATS_SERVER_BIN');
    process.exit(1);
  }
}

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/domiq';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

switch (command) {
  case 'test': {
    ensureDependencies();
    await ensurePostgres(process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
    // The suites start private nats-servers (so they can restart them); the shared one is started for parity with `start`.
    requireNatsForTests();
    await ensureNats(NATS_URL);
    const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
    const report = join(root, '.data', 'vitest-report.json');
    mkdirSync(dirname(report), { recursive: true });
    rmSync(report, { force: true });
    // Every service process of the run appends its log lines here; the suite's global setup scans them for secrets.
    const testLogs = join(root, '.data', 'test-logs');
    rmSync(testLogs, { recursive: true, force: true });
    mkdirSync(testLogs, { recursive: true });
    // Static checks first on a whole run (not when a file filter is given): the type check (Node strips types, so
    // nothing else would catch a type error) and ESLint's type-aware rules (no-floating-promises and friends).
    let staticFailed = false;
    if (process.argv.length <= 3) {
      log('type check (tsc -p .) and lint (eslint .)');
      const tsc = run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.']);
      const eslint = run(process.execPath, [join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '.']);
      staticFailed = tsc !== 0 || eslint !== 0;
      process.stdout.write(`static checks: tsc ${tsc === 0 ? 'ok' : 'FAILED'}, eslint ${eslint === 0 ? 'ok' : 'FAILED'}\n`);
    }
    const vitestCode = run(process.execPath, [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(3)], {
      env: { ...process.env, DOMIQ_TEST_LOG_DIR: testLogs },
    });
    const code = vitestCode !== 0 ? vitestCode : staticFailed ? 1 : 0;
    // One plain closing line that any CI reader understands.
    if (existsSync(report)) {
      const r = JSON.parse(readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number };
      // A failure outside any test (the global teardown's log secret scan) fails the run with 0 failed tests.
      const outside = vitestCode !== 0 && r.numFailedTests === 0 ? ' (run failed outside the tests: see the output above)' : staticFailed ? ' (static checks failed: see above)' : '';
      process.stdout.write(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped${outside}\n`);
    }
    process.exit(code);
    break;
  }
  case 'bench': {
    ensureDependencies();
    await ensurePostgres(process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
    requireNatsForTests();
    // `npm run bench` runs every test/bench/<name>.bench.ts (ingest first); `npm run bench -- reply ...` only those named.
    const benchDir = join(root, 'test', 'bench');
    const all = readdirSync(benchDir).filter((f) => f.endsWith('.bench.ts')).map((f) => f.slice(0, -'.bench.ts'.length))
      .sort((a, b) => (a === 'ingest' ? -1 : b === 'ingest' ? 1 : a.localeCompare(b)));
    const named = process.argv.slice(3);
    const unknown = named.filter((n) => !all.includes(n));
    if (unknown.length) {
      log(`unknown benchmark ${unknown.join(', ')}: use ${all.join(', ')}`);
      process.exit(2);
    }
    let benchCode = 0;
    for (const name of named.length ? named : all) {
      log(`benchmark ${name}`);
      const code = run(process.execPath, [join(benchDir, `${name}.bench.ts`)]);
      if (code !== 0 && benchCode === 0) benchCode = code;
    }
    process.exit(benchCode);
    break;
  }
  case 'typecheck': {
    ensureDependencies();
    process.exit(run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.']));
    break;
  }
  case 'lint': {
    ensureDependencies();
    process.exit(run(process.execPath, [join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '.']));
    break;
  }
  case 'gen': {
    ensureDependencies();
    process.exit(run('bash', [join(root, 'scripts', 'gen-proto.sh')]));
    break;
  }
  case 'token': {
    ensureDependencies();
    const { tokenCommand } = await import('./token.ts');
    await tokenCommand(process.argv.slice(3));
    break;
  }
  case 'annotate': {
    // JSON lines in on stdin, out on stdout (streamed); nothing else may be written to stdout.
    ensureDependencies(true);
    process.exit(run(process.execPath, [join(root, 'packages', 'annotator', 'src', 'cli.ts'), ...process.argv.slice(3)]));
    break;
  }
  case 'rotate-secrets': {
    ensureDependencies();
    process.exit(run(process.execPath, [join(root, 'scripts', 'rotate-secrets.ts'), ...process.argv.slice(3)]));
    break;
  }
  case 'start': {
    ensureDependencies();
    await ensurePostgres(DATABASE_URL);
    // Without NATS_URL: the project's own nats-server with nkey authentication (config and seeds generated under
    // .data/nats, port DOMIQ_NATS_PORT, default 4223), never the machine's unauthenticated one. With NATS_URL: your
    // own NATS; the services' seeds come from DOMIQ_NATS_NKEY_DIR (see docs/nats-security.md).
    const ownNats = process.env.NATS_URL === undefined;
    const natsServerBin = natsBinary();
    if (ownNats && !natsServerBin) {
      log('npm start runs its own nats-server: install nats-server (apt-get install nats-server), set NATS_SERVER_BIN, or set NATS_URL to your NATS with JetStream.');
      process.exit(1);
    }
    if (!ownNats) await ensureNats(NATS_URL);
    const { runLocalStack } = await import('./local-stack.ts');
    await runLocalStack({ databaseUrl: DATABASE_URL, natsUrl: ownNats ? undefined : NATS_URL, natsServerBin });
    break;
  }
  default:
    log(`unknown command ${command}: use start, test, bench, typecheck, gen, rotate-secrets or annotate`);
    process.exit(2);
}
