// The run-wide test log directory: every ServiceProcess appends its output there (one file per process), and the
// tests register every secret they create, so that the run's teardown (vitest-global-setup.ts) can prove that no
// secret reached any log line. DOMIQ_TEST_LOG_DIR is set by `npm test` (scripts/stack.ts) or by the global setup.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export const SECRETS_FILE = 'secrets.txt';
/** Shorter values are not registered: they would match ordinary text ("token", "1234"). */
export const MIN_SECRET_LENGTH = 8;

export interface RegisteredSecret {
  value: string;
  /** Where it came from (shown when it leaks; the value never is). */
  label: string;
}

/** The run's log directory, or undefined outside a test run (npm start, npm run bench). */
export function testLogDir(): string | undefined {
  return process.env.DOMIQ_TEST_LOG_DIR || undefined;
}

const registered = new Set<string>();

/**
 * Registers a secret this run created (a Twilio auth token, a ResMan API key, an encryption key, a JWT, an nkey
 * seed...): the run fails if it shows up in any service's log, verbatim or base64/url/hex-encoded. A no-op
 * outside a test run. Values shorter than MIN_SECRET_LENGTH are ignored. Returns the value, so
 * `const token = registerTestSecret(mint(...))` reads naturally.
 */
export function registerTestSecret<T extends string | undefined | null>(value: T, label = ''): T {
  const dir = testLogDir();
  if (!dir || typeof value !== 'string' || value.trim().length < MIN_SECRET_LENGTH || registered.has(value)) return value;
  registered.add(value);
  mkdirSync(dir, { recursive: true });
  // One JSON object per line: a value may hold any character, newlines included.
  appendFileSync(join(dir, SECRETS_FILE), JSON.stringify({ value, label } satisfies RegisteredSecret) + '\n');
  return value;
}

export function readRegisteredSecrets(dir: string): RegisteredSecret[] {
  const file = join(dir, SECRETS_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as Partial<RegisteredSecret>;
      return typeof parsed.value === 'string' ? [{ value: parsed.value, label: String(parsed.label ?? '') }] : [];
    } catch {
      return [];
    }
  });
}

/**
 * Environment variables whose values are secrets by name: *_KEY, *_TOKEN, *_SECRET (or plural), *SEED* and
 * *PASSWORD*, not *PUBLIC* ones. For the same names ending in _FILE the file's content is the secret.
 */
export function isSecretEnvName(name: string): boolean {
  const n = name.toUpperCase();
  if (n.includes('PUBLIC')) return false;
  const base = n.replace(/_(FILE|PATH)$/, '');
  return /(_KEYS?|_TOKENS?|_SECRETS?)$/.test(base) || base.includes('SEED') || base.includes('PASSWORD') || base === 'KEY' || base === 'TOKEN' || base === 'SECRET';
}

/**
 * A value and, for a list (`kid1:key1,kid2:key2`, one per line...), each of its items and the part after an
 * item's `id:` or `id=`: one key of a key ring leaks on its own.
 */
function valueAndParts(value: string): string[] {
  const parts = value.split(/[\s,;]+/).filter(Boolean);
  if (parts.length <= 1 && !/^[\w.-]{1,40}[:=]/.test(value)) return [value];
  const out = new Set([value]);
  for (const part of parts) {
    out.add(part);
    const keyed = /^[\w.-]{1,40}[:=](.+)$/.exec(part);
    if (keyed) out.add(keyed[1]!);
  }
  return [...out];
}

/** The secret values in an environment (file contents for *_FILE variables that name a readable file). */
export function secretsInEnv(env: Record<string, string | undefined>, labelPrefix = 'env'): RegisteredSecret[] {
  const out: RegisteredSecret[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!value || !isSecretEnvName(name)) continue;
    if (/_(FILE|PATH)$/i.test(name)) {
      try {
        const content = readFileSync(value, 'utf8').trim();
        for (const part of content ? valueAndParts(content) : []) out.push({ value: part, label: `${labelPrefix} ${name} (file content)` });
      } catch {
        // Not a readable file (yet): nothing to register.
      }
      continue;
    }
    for (const part of valueAndParts(value)) out.push({ value: part, label: `${labelPrefix} ${name}` });
  }
  return out.filter((s) => s.value.trim().length >= MIN_SECRET_LENGTH);
}

/** Registers the secret-named variables of an environment handed to a process. */
export function registerEnvSecrets(env: Record<string, string | undefined>, labelPrefix = 'env'): void {
  for (const s of secretsInEnv(env, labelPrefix)) registerTestSecret(s.value, s.label);
}

/** The test file running in this vitest worker (its path), if any. */
async function currentTestFile(): Promise<string | undefined> {
  if (!process.env.VITEST) return undefined;
  try {
    const { expect } = await import('vitest');
    return expect.getState().testPath ?? undefined;
  } catch {
    return undefined;
  }
}

/** `<dir>/<test-file-basename or pid>-<name>.log`, or undefined outside a test run. */
export async function processLogFile(name: string): Promise<string | undefined> {
  const dir = testLogDir();
  if (!dir) return undefined;
  const testFile = await currentTestFile();
  const owner = testFile ? basename(testFile).replace(/\.[cm]?[jt]s$/, '') : `pid${process.pid}`;
  mkdirSync(dir, { recursive: true });
  return join(dir, `${owner}-${basename(name).replace(/[^A-Za-z0-9._-]/g, '_')}.log`);
}
