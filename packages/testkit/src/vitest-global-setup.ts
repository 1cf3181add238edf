// vitest globalSetup (vitest.config.ts): fills the compile cache, gives the run a log directory, and at teardown scans every service log
// line the run wrote for every secret the run used. A leak fails the run: the offending file:line (the secret
// masked) goes to stderr and teardown throws.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { builtInSecrets, scanLogDir } from './log-scan.ts';
import { readRegisteredSecrets, secretsInEnv, type RegisteredSecret } from './test-logs.ts';
import { warmCompileCache } from './service-process.ts';

const repoRoot = join(import.meta.dirname, '..', '..', '..');
/** Runs started by `vitest` directly (not `npm test`) keep their logs in run-* folders; the newest few are kept. */
const KEEP_RUNS = 5;

function pruneOldRuns(parent: string): void {
  if (!existsSync(parent)) return;
  const runs = readdirSync(parent).filter((n) => n.startsWith('run-')).map((n) => join(parent, n))
    .filter((p) => statSync(p).isDirectory()).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const old of runs.slice(KEEP_RUNS - 1)) rmSync(old, { recursive: true, force: true });
}

export default function setup(): () => void {
  let dir = process.env.DOMIQ_TEST_LOG_DIR;
  if (!dir) {
    // `npm test` sets (and clears) .data/test-logs; a direct `vitest run` gets a folder of its own, so that
    // runs going on at the same time do not mix their logs.
    const parent = join(repoRoot, '.data', 'test-logs');
    pruneOldRuns(parent);
    dir = join(parent, `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
    // Workers are started after global setup and inherit this.
    process.env.DOMIQ_TEST_LOG_DIR = dir;
  }
  mkdirSync(dir, { recursive: true });
  const logDir = dir;
  // Every service the tests start then loads its modules from Node's compile cache: no TypeScript stripper in any
  // of them, and less compiling at each start (scripts/compile-cache.ts).
  warmCompileCache();

  return function teardown(): void {
    const secrets: RegisteredSecret[] = [...builtInSecrets(), ...secretsInEnv(process.env, 'vitest env'), ...readRegisteredSecrets(logDir)];
    const started = performance.now();
    const result = scanLogDir(logDir, secrets);
    const ms = Math.round(performance.now() - started);
    const summary = `${result.files} log files (${(result.bytes / 1e6).toFixed(1)} MB), ${secrets.length} secrets (${result.needles} forms), ${ms} ms`;
    if (result.findings.length === 0) {
      process.stderr.write(`[log-secrets] no secret in the service logs: ${summary} (${logDir})\n`);
      return;
    }
    process.stderr.write(`\n[log-secrets] ${result.findings.length} secret occurrence(s) in the service logs (${summary}):\n`);
    for (const f of result.findings.slice(0, 50)) {
      process.stderr.write(`  ${f.file}:${f.line}  ${f.masked} ${f.encoding}${f.label ? ` [${f.label}]` : ''}\n    ${f.excerpt}\n`);
    }
    if (result.findings.length > 50) process.stderr.write(`  ... and ${result.findings.length - 50} more\n`);
    const files = [...new Set(result.findings.map((f) => f.file))];
    throw new Error(`secrets found in ${files.length} service log file(s) of this run: ${files.join(', ')}`);
  };
}
