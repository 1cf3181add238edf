import { WatchedFile } from './watched-file.ts';

/**
 * A service's own token for calling its peers: a file (a mounted Kubernetes Secret, re-read when it changes,
 * so it can be renewed without a restart) or a value. Never logged.
 */
export class ServiceToken {
  readonly #file: WatchedFile<string> | undefined;
  readonly #value: string | undefined;

  constructor(source: { file?: string; value?: string }) {
    if (source.file) {
      this.#file = new WatchedFile(source.file, (text) => {
        const token = text.trim();
        if (!token) throw new Error(`${source.file} is empty`);
        return token;
      });
    } else if (source.value) {
      this.#value = source.value;
    } else {
      throw new Error('no service token: set DOMIQ_SERVICE_TOKEN_FILE or DOMIQ_SERVICE_TOKEN');
    }
  }

  get(): string {
    return this.#file ? this.#file.get() : this.#value!;
  }

  toJSON(): string {
    return '[ServiceToken]';
  }
}
