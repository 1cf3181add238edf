// `node scripts/compile-cache.ts [service ...]` (default: every service): fills Node's compile cache
// (NODE_COMPILE_CACHE, default .data/compile-cache) with what a service loads, so that the service starts without
// Node's TypeScript stripper. Node strips a .ts file's types with amaro (swc compiled to WebAssembly) the first time
// it loads the file and keeps that WebAssembly instance, with the memory it grew to, for the life of the process:
// 10-25 MB resident in every service (issue 7's memory target; docs/hot-path.md, memory). With the stripped source
// in the compile cache (keyed by the file's path, checked against its content), amaro is never loaded. The cache
// also holds V8's code cache for every module, so the service starts with less compiling too.
//
// What it loads, as a service would: the telemetry loader, each service's main.ts (which starts nothing when it is
// imported: `import.meta.main`), and the migrations MikroORM imports at start. Node names the cache's folder after
// its version, the V8 flags and the user id, so this runs with the services' flags (SERVICE_NODE_FLAGS, re-executing
// itself when started without them) and must run as the user the services run as (deploy/Dockerfile runs it as the
// image's user). Called by `npm start`, `npm run bench` and the test run before they start services.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { flushCompileCache, getCompileCacheDir } from 'node:module';
import { pathToFileURL } from 'node:url';
import { COMPILE_CACHE_DIR, SERVICE_NODE_FLAGS, SERVICES, repoRoot } from '@domiq/testkit';

const services = process.argv.slice(2);
const known = new Set(SERVICES.map((s) => s.name));
for (const s of services) {
  if (!known.has(s as never)) {
    process.stderr.write(`compile-cache: no service named '${s}' (one of: ${[...known].join(', ')})\n`);
    process.exit(2);
  }
}

if (!SERVICE_NODE_FLAGS.every((f) => process.execArgv.includes(f)) || !getCompileCacheDir()) {
  const env = { ...process.env, NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? COMPILE_CACHE_DIR };
  const r = spawnSync(process.execPath, [...SERVICE_NODE_FLAGS, import.meta.filename, ...services], { env, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const migrations = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => join(dir, f));
const files = [
  join(repoRoot, 'packages', 'telemetry', 'src', 'register.ts'),
  ...migrations(join(repoRoot, 'packages', 'bus', 'src', 'migrations')),
  ...(services.length ? services : [...known]).flatMap((s) => [
    join(repoRoot, 'services', s, 'src', 'main.ts'),
    ...migrations(join(repoRoot, 'services', s, 'src', 'db', 'migrations')),
  ]),
];
for (const file of files) await import(pathToFileURL(file).href);
flushCompileCache();
process.stdout.write(`compile cache: ${files.length} entry modules and what they import, in ${getCompileCacheDir()}\n`);
// The telemetry loader started an SDK with timers; nothing else is left to do.
process.exit(0);
