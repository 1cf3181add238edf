import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// Generated code is committed; this fails when it drifts from the protos (or when buf lint fails).
const root = join(import.meta.dirname, '..', '..');
const out = join(mkdtempSync(join(tmpdir(), 'domiq-gen-')), 'gen');
afterAll(() => rmSync(join(out, '..'), { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('proto/gen', () => {
  it('matches what buf generates from proto/ (run `npm run gen` after editing a .proto)', () => {
    execFileSync('bash', [join(root, 'scripts', 'gen-proto.sh')], { env: { ...process.env, OUT: out }, stdio: 'pipe' });
    const committed = join(root, 'proto', 'gen');
    const want = files(out).map((f) => relative(out, f)).sort();
    const have = files(committed).map((f) => relative(committed, f)).sort();
    expect(have).toEqual(want);
    for (const f of want) {
      expect(readFileSync(join(committed, f)).equals(readFileSync(join(out, f))), `${f} differs from generated output`).toBe(true);
    }
  });
});
