import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// `buf breaking` against the released contracts (proto/breaking-baseline.binpb, built from main by
// scripts/proto-baseline.sh): a change that would break a deployed caller or a stored event fails the suite.
const root = join(import.meta.dirname, '..', '..');
const buf = join(root, 'node_modules', '.bin', 'buf');
const baseline = join(root, 'proto', 'breaking-baseline.binpb');
const scratch = mkdtempSync(join(tmpdir(), 'domiq-breaking-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function breaking(dir: string): { code: number; out: string } {
  const r = spawnSync(buf, ['breaking', '.', '--against', baseline, '--error-format', 'text'], { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describe('proto contracts', () => {
  it('make no breaking change against the released baseline (run scripts/proto-baseline.sh only for an accepted break)', () => {
    const { code, out } = breaking(join(root, 'proto'));
    expect(out).toBe('');
    expect(code).toBe(0);
  });

  it('the check catches a removed field and a changed field type', () => {
    const copy = join(scratch, 'proto');
    cpSync(join(root, 'proto'), copy, { recursive: true, filter: (src) => !src.includes('node_modules') && !src.endsWith('/gen') });
    const file = join(copy, 'domiq', 'identity', 'v1', 'identity.proto');
    const text = readFileSync(file, 'utf8');
    const edited = text.replace(/^(\s*)string display_name = (\d+);/m, '$1reserved $2;').replace(/^(\s*)string email = (\d+);/m, '$1int64 email = $2;');
    expect(edited).not.toBe(text);
    writeFileSync(file, edited);
    const { code, out } = breaking(copy);
    expect(code).not.toBe(0);
    expect(out).toMatch(/display_name/);
    expect(out).toMatch(/email.*type/i);
  });

  it('the baseline is a buf image of the domiq packages', () => {
    const listed = execFileSync(buf, ['ls-files', baseline], { encoding: 'utf8' });
    expect(listed).toMatch(/domiq\/identity\/v1\/identity\.proto/);
    expect(listed).toMatch(/domiq\/conversations\/v1\/events\.proto/);
  });
});
