import { readFileSync, statSync } from 'node:fs';

/**
 * A file that is re-read when it changes (a mounted Secret or ConfigMap the kubelet updates), checked at most every
 * `recheckMs`. A change that does not parse (a half-written file, an empty token) keeps the last good value; the
 * first read must succeed.
 */
export class WatchedFile<T> {
  readonly path: string;
  readonly #parse: (text: string) => T;
  readonly #recheckMs: number;
  readonly #onChange: ((value: T) => void) | undefined;
  #value: T;
  #version = '';
  #checkedAt = 0;

  constructor(path: string, parse: (text: string) => T, opts: { recheckMs?: number; onChange?: (value: T) => void } = {}) {
    this.path = path;
    this.#parse = parse;
    this.#recheckMs = opts.recheckMs ?? 5_000;
    this.#onChange = opts.onChange;
    this.#version = this.#stat();
    this.#value = parse(readFileSync(path, 'utf8'));
    this.#checkedAt = Date.now();
  }

  #stat(): string {
    const s = statSync(this.path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  }

  get(): T {
    const now = Date.now();
    if (now - this.#checkedAt < this.#recheckMs) return this.#value;
    this.#checkedAt = now;
    try {
      const version = this.#stat();
      if (version === this.#version) return this.#value;
      const value = this.#parse(readFileSync(this.path, 'utf8'));
      this.#version = version;
      this.#value = value;
      this.#onChange?.(value);
    } catch {
      // Mid-write or briefly missing (a Secret being swapped): keep serving the last good value, look again later.
    }
    return this.#value;
  }
}
