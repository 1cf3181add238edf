// A service started after scripts/compile-cache.ts strips no TypeScript itself: every module it loads (the telemetry
// loader, main.ts and what it imports, the migrations it applies at start) comes out of Node's compile cache, so the
// type stripper (amaro's WebAssembly, 10-25 MB resident) is never loaded. Node's own debug output
// (NODE_DEBUG_NATIVE=COMPILE_CACHE, on stderr) says, for every .ts file it loads, whether the stripped source was found.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, startTestStack } from '@domiq/testkit';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Starts identity on a fresh database with the given compile cache; returns Node's lines about each stripped file. */
async function strippedFiles(cacheDir: string): Promise<string[]> {
  const stack = await startTestStack({ services: ['identity'], env: { NODE_COMPILE_CACHE: cacheDir, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' } });
  try {
    return stack.services.identity!.lines.filter((l) => l.includes('reading cache from') && l.includes('for StrippedTypeScript'));
  } finally {
    await stack.stop();
  }
}

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'domiq-compile-cache-'));
  dirs.push(dir);
  return dir;
}

describe('compile cache (scripts/compile-cache.ts)', () => {
  it('a service started after the warm-up finds every TypeScript module it loads in the cache', async () => {
    const dir = freshDir();
    const warm = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'compile-cache.ts'), 'identity'], { cwd: repoRoot, env: { ...process.env, NODE_COMPILE_CACHE: dir }, encoding: 'utf8' });
    expect(warm.status, warm.stderr).toBe(0);
    const files = await strippedFiles(dir);
    // main.ts and its modules, the platform's packages, the generated protobuf code, the migrations: ~80 files.
    expect(files.length).toBeGreaterThan(50);
    expect(files.some((l) => l.includes('/services/identity/src/main.ts'))).toBe(true);
    expect(files.some((l) => l.includes('/services/identity/src/db/migrations/'))).toBe(true);
    expect(files.some((l) => l.includes('/packages/telemetry/src/register.ts'))).toBe(true);
    expect(files.filter((l) => !l.includes('success'))).toEqual([]);
  });

  it('without the warm-up the same start strips its modules itself', async () => {
    const files = await strippedFiles(freshDir());
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter((l) => !l.includes('success')).length).toBe(files.length);
  });

  it('refuses a service name it does not know', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'compile-cache.ts'), 'idenity'], { cwd: repoRoot, env: { ...process.env, NODE_COMPILE_CACHE: freshDir() }, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("no service named 'idenity'");
  });
});
