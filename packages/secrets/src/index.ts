import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Encrypts secrets at rest with AES-256-GCM. Ciphertext format: `v1.<iv>.<tag>.<data>` (base64url), so a
 * future key rotation can add `v2` beside it. The key comes from DOMIQ_ENCRYPTION_KEY (32 bytes, base64).
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(base64Key: string) {
    const key = Buffer.from(base64Key, 'base64');
    if (key.length !== 32) throw new Error('encryption key must be 32 bytes, base64-encoded');
    this.#key = key;
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
  }

  decrypt(ciphertext: string): string {
    const [version, iv, tag, data] = ciphertext.split('.');
    if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('unrecognised ciphertext format');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }

  // Never let a SecretBox (or its key) end up in a log line.
  toJSON(): string {
    return '[SecretBox]';
  }
}

/** A development-only key so `npm start` works out of the box; production must set DOMIQ_ENCRYPTION_KEY. */
export const DEV_ENCRYPTION_KEY = Buffer.alloc(32, 'domiq-dev-only-key').toString('base64');
