// The secret scan over a test run's logs: every registered secret (and its base64, base64url, URL-encoded,
// JSON-escaped and hex forms) is looked for in every line of every log file of the run directory.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_API_KEY } from '@domiq/resman-sim';
import { DEV_ENCRYPTION_KEY } from '@domiq/secrets';
import { MIN_SECRET_LENGTH, type RegisteredSecret } from './test-logs.ts';

/** Secrets every run has, whether or not a test registered them. */
export function builtInSecrets(): RegisteredSecret[] {
  return [
    { value: DEV_ENCRYPTION_KEY, label: 'development encryption key (@domiq/secrets)' },
    { value: DEFAULT_API_KEY, label: 'ResMan simulator API key (@domiq/resman-sim)' },
  ];
}

export interface SecretNeedle {
  text: string;
  encoding: string;
  secret: RegisteredSecret;
}

export interface SecretFinding {
  file: string;
  /** 1-based. */
  line: number;
  encoding: string;
  label: string;
  /** The secret, masked: its first two characters and its length. */
  masked: string;
  /** The offending line with every occurrence masked, cut to 300 characters. */
  excerpt: string;
}

export function maskSecret(value: string): string {
  return `${value.slice(0, 2)}***(${value.length} chars)`;
}

/**
 * The part of base64(x + secret + y) that depends on the secret alone, for each of the three alignments the
 * secret can have inside a longer base64 text (a Basic auth header, a JSON blob that was base64-encoded...).
 */
function base64Forms(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64').replace(/=+$/, '');
    // Characters mixing in the prefix's bits at the start, and the (unknown) following bits at the end.
    const start = offset === 0 ? 0 : offset + 1;
    const end = (offset + bytes.length) % 3 === 0 ? encoded.length : encoded.length - 1;
    out.push(encoded.slice(start, end));
  }
  return out;
}

/** What to look for: the secret as is and in the encodings a log line could carry it in. */
export function secretNeedles(secret: RegisteredSecret): SecretNeedle[] {
  const { value } = secret;
  const forms = new Map<string, string>();
  const add = (encoding: string, text: string) => {
    if (text.length >= MIN_SECRET_LENGTH && !forms.has(text)) forms.set(text, encoding);
  };
  add('verbatim', value);
  add('json-escaped', JSON.stringify(value).slice(1, -1));
  add('url-encoded', encodeURIComponent(value));
  add('form-encoded', new URLSearchParams({ v: value }).toString().slice(2));
  const bytes = Buffer.from(value, 'utf8');
  for (const form of base64Forms(bytes)) {
    add('base64', form);
    add('base64url', form.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  add('hex', bytes.toString('hex'));
  // A secret that is itself base64 (an encryption key) also leaks as its raw bytes in another encoding.
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value) && value.length >= 16) {
    const raw = Buffer.from(value, /[-_]/.test(value) ? 'base64url' : 'base64');
    if (raw.length >= 16) {
      add('decoded-base64url', raw.toString('base64url'));
      add('decoded-hex', raw.toString('hex'));
    }
  }
  return [...forms].map(([text, encoding]) => ({ text, encoding, secret }));
}

const WINDOW = MIN_SECRET_LENGTH;
const BASE = 257;
// BASE^(WINDOW-1) mod 2^32, to take the oldest character out of the rolling hash.
const BASE_POW = Array.from({ length: WINDOW - 1 }).reduce<number>((acc) => Math.imul(acc, BASE) >>> 0, 1);

function windowHash(text: string, from: number): number {
  let h = 0;
  for (let i = from; i < from + WINDOW; i++) h = (Math.imul(h, BASE) + text.charCodeAt(i)) >>> 0;
  return h;
}

/** Finds every needle in `text` in one pass (a rolling hash over the needles' first characters). */
export class NeedleIndex {
  readonly #byPrefix = new Map<number, SecretNeedle[]>();
  readonly size: number;

  constructor(needles: SecretNeedle[]) {
    for (const needle of needles) {
      const key = windowHash(needle.text, 0);
      const list = this.#byPrefix.get(key);
      if (list) list.push(needle);
      else this.#byPrefix.set(key, [needle]);
    }
    this.size = needles.length;
  }

  /** Calls `found` with each needle found and the 1-based line it starts on. */
  scan(text: string, found: (needle: SecretNeedle, line: number, index: number) => void): void {
    if (this.size === 0 || text.length < WINDOW) return;
    let line = 1;
    let h = windowHash(text, 0);
    for (let i = 0; ; i++) {
      const candidates = this.#byPrefix.get(h);
      if (candidates) for (const needle of candidates) if (text.startsWith(needle.text, i)) found(needle, line, i);
      if (text.charCodeAt(i) === 10) line++;
      if (i + WINDOW >= text.length) break;
      h = (Math.imul((h - Math.imul(text.charCodeAt(i), BASE_POW)) >>> 0, BASE) + text.charCodeAt(i + WINDOW)) >>> 0;
    }
  }
}

function lineAround(text: string, index: number): string {
  const start = text.lastIndexOf('\n', index) + 1;
  const end = text.indexOf('\n', index);
  return text.slice(start, end === -1 ? text.length : end);
}

/** The secrets (in any of their forms) that occur in `lines`, masked: for tests that check one process's output. */
export function secretsIn(lines: readonly string[], secrets: RegisteredSecret[]): Array<{ label: string; masked: string; encoding: string }> {
  const text = lines.join('\n');
  const out: Array<{ label: string; masked: string; encoding: string }> = [];
  for (const secret of secrets) {
    const hit = secretNeedles(secret).find((n) => text.includes(n.text));
    if (hit) out.push({ label: secret.label, masked: maskSecret(secret.value), encoding: hit.encoding });
  }
  return out;
}

/** Scans `text` (one log file's content) for the needles; `file` is only used in the findings. */
export function scanText(file: string, text: string, index: NeedleIndex, needles: SecretNeedle[]): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const seen = new Set<string>();
  index.scan(text, (needle, line, at) => {
    const key = `${line}|${needle.secret.value}`;
    if (seen.has(key)) return;
    seen.add(key);
    let excerpt = lineAround(text, at);
    for (const n of needles) if (excerpt.includes(n.text)) excerpt = excerpt.split(n.text).join(maskSecret(n.secret.value));
    findings.push({
      file, line, encoding: needle.encoding, label: needle.secret.label, masked: maskSecret(needle.secret.value),
      excerpt: excerpt.length > 300 ? `${excerpt.slice(0, 300)}...` : excerpt,
    });
  });
  return findings;
}

/** Every `*.log` file directly in `dir`, scanned for every secret. */
export function scanLogDir(dir: string, secrets: RegisteredSecret[]): { files: number; bytes: number; needles: number; findings: SecretFinding[] } {
  const unique = new Map<string, RegisteredSecret>();
  for (const s of secrets) if (s.value.trim().length >= MIN_SECRET_LENGTH && !unique.has(s.value)) unique.set(s.value, s);
  const needles = [...unique.values()].flatMap(secretNeedles);
  const index = new NeedleIndex(needles);
  const findings: SecretFinding[] = [];
  let files = 0;
  let bytes = 0;
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.log')).sort();
  } catch {
    names = [];
  }
  for (const name of names) {
    const path = join(dir, name);
    let text: string;
    try {
      if (!statSync(path).isFile()) continue;
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    files++;
    bytes += text.length;
    findings.push(...scanText(path, text, index, needles));
  }
  return { files, bytes, needles: needles.length, findings };
}
