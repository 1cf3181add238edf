import { readFileSync, statSync } from 'node:fs';

/**
 * A service's own token for calling its peers: a file (a mounted Kubernetes Secret, re-read when it changes,
 * so it can be renewed without a restart) or a value. Never logged.
 */
export class ServiceToken {
  readonly #file: string | undefined;
  #value: string | undefined;
  #mtime = -1;
  #checkedAt = 0;

  constructor(source: { file?: string; value?: string }) {
    this.#file = source.file || undefined;
    this.#value = source.value || undefined;
    if (!this.#file && !this.#value) throw new Error('no service token: set DOMIQ_SERVICE_TOKEN_FILE or DOMIQ_SERVICE_TOKEN');
    this.get();
  }

  get(): string {
    if (!this.#file) return this.#value!;
    const now = Date.now();
    if (this.#value && now - this.#checkedAt < 5_000) return this.#value;
    this.#checkedAt = now;
    const m = statSync(this.#file).mtimeMs;
    if (m !== this.#mtime || !this.#value) {
      this.#value = readFileSync(this.#file, 'utf8').trim();
      this.#mtime = m;
    }
    return this.#value;
  }

  toJSON(): string {
    return '[ServiceToken]';
  }
}
