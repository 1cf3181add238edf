import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from '@domiq/config';

/** The kid a single DOMIQ_ENCRYPTION_KEY gets, and the key `v1` ciphertexts (written before key ids) are read with. */
export const LEGACY_KID = 'k0';
const KID = /^[A-Za-z0-9_-]{1,32}$/;

export interface KeyringEntry {
  kid: string;
  /** 32 bytes, base64. */
  key: string;
}

function keyBytes(base64Key: string, kid: string): Buffer {
  const key = Buffer.from(base64Key, 'base64');
  if (key.length !== 32) throw new Error(`encryption key ${kid} must be 32 bytes, base64-encoded`);
  return key;
}

/**
 * Parses DOMIQ_ENCRYPTION_KEYS: comma-separated `<kid>:<base64 32 bytes>`, the first the current key. Throws
 * naming the bad entry (never echoing key material).
 */
export function parseKeyring(spec: string): KeyringEntry[] {
  const entries = spec.split(',').map((s) => s.trim()).filter(Boolean).map((entry, i) => {
    const colon = entry.indexOf(':');
    const kid = colon > 0 ? entry.slice(0, colon).trim() : '';
    if (!KID.test(kid)) throw new Error(`entry ${i + 1} must be <kid>:<base64 key> with a kid of letters, digits, - or _ (at most 32)`);
    const key = entry.slice(colon + 1).trim();
    keyBytes(key, kid);
    return { kid, key };
  });
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.kid)) throw new Error(`kid ${e.kid} appears twice`);
    seen.add(e.kid);
  }
  return entries;
}

/** Which variable holds the keys a service uses: DOMIQ_ENCRYPTION_KEYS when set, else DOMIQ_ENCRYPTION_KEY as kid k0. */
export function keyringFromConfig(config: { DOMIQ_ENCRYPTION_KEYS?: string | undefined; DOMIQ_ENCRYPTION_KEY?: string | undefined }): { variable: 'DOMIQ_ENCRYPTION_KEYS' | 'DOMIQ_ENCRYPTION_KEY'; entries: KeyringEntry[] } {
  if (config.DOMIQ_ENCRYPTION_KEYS?.trim()) return { variable: 'DOMIQ_ENCRYPTION_KEYS', entries: parseKeyring(config.DOMIQ_ENCRYPTION_KEYS) };
  if (config.DOMIQ_ENCRYPTION_KEY) return { variable: 'DOMIQ_ENCRYPTION_KEY', entries: [{ kid: LEGACY_KID, key: config.DOMIQ_ENCRYPTION_KEY }] };
  throw new Error('no encryption key configured: set DOMIQ_ENCRYPTION_KEYS or DOMIQ_ENCRYPTION_KEY');
}

/**
 * Encrypts secrets at rest with AES-256-GCM under a keyring: the first key is current (encrypts), every key decrypts.
 * Ciphertext format `v2.<kid>.<iv>.<tag>.<data>` (base64url parts), with `v2.<kid>` bound as additional
 * authenticated data, so a ciphertext cannot be relabelled to another key id. `v1.<iv>.<tag>.<data>` (before key
 * ids) is still read, as kid k0. Rotation: `npm run rotate-secrets` (docs/secrets.md).
 */
export class SecretBox {
  readonly #keys = new Map<string, Buffer>();
  readonly currentKid: string;

  /** A keyring (entries, or a DOMIQ_ENCRYPTION_KEYS string), or one base64 key (kid k0). */
  constructor(keys: string | readonly KeyringEntry[]) {
    const entries = typeof keys !== 'string' ? keys : keys.includes(':') ? parseKeyring(keys) : [{ kid: LEGACY_KID, key: keys }];
    if (entries.length === 0) throw new Error('the keyring holds no key');
    for (const e of entries) {
      if (!KID.test(e.kid)) throw new Error(`kid ${JSON.stringify(e.kid)} must be letters, digits, - or _ (at most 32)`);
      if (this.#keys.has(e.kid)) throw new Error(`kid ${e.kid} appears twice`);
      this.#keys.set(e.kid, keyBytes(e.key, e.kid));
    }
    this.currentKid = entries[0]!.kid;
  }

  /** The box a service's config describes (DOMIQ_ENCRYPTION_KEYS, else DOMIQ_ENCRYPTION_KEY). */
  static fromConfig(config: { DOMIQ_ENCRYPTION_KEYS?: string | undefined; DOMIQ_ENCRYPTION_KEY?: string | undefined }): SecretBox {
    return new SecretBox(keyringFromConfig(config).entries);
  }

  /** Every key id this box can read, the current first. */
  get kids(): string[] {
    return [...this.#keys.keys()];
  }

  encrypt(plaintext: string): string {
    const kid = this.currentKid;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(kid)!, iv);
    cipher.setAAD(Buffer.from(`v2.${kid}`));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v2', kid, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
  }

  decrypt(ciphertext: string): string {
    const { version, kid, iv, tag, data } = parse(ciphertext);
    const key = this.#keys.get(kid);
    if (!key) throw new Error(`ciphertext is under key ${kid}, which is not in the keyring`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    if (version === 'v2') decipher.setAAD(Buffer.from(`v2.${kid}`));
    const authTag = Buffer.from(tag, 'base64url');
    if (authTag.length !== 16) throw new Error('unrecognised ciphertext format');
    decipher.setAuthTag(authTag);
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** The key id a ciphertext is under (`k0` for `v1`); throws on anything that is not a SecretBox ciphertext. */
  kidOf(ciphertext: string): string {
    return parse(ciphertext).kid;
  }

  /** True when the ciphertext is under the current key. */
  isCurrent(ciphertext: string): boolean {
    return this.kidOf(ciphertext) === this.currentKid;
  }

  /** The same plaintext under the current key; the ciphertext itself when it already is. */
  reencrypt(ciphertext: string): string {
    return this.isCurrent(ciphertext) ? ciphertext : this.encrypt(this.decrypt(ciphertext));
  }

  /** True when any key of the ring equals `base64Key` (the production check uses it for the development key). */
  holdsKey(base64Key: string): boolean {
    const probe = Buffer.from(base64Key, 'base64');
    return [...this.#keys.values()].some((k) => k.length === probe.length && timingSafeEqual(k, probe));
  }

  // Never let a SecretBox (or its keys) end up in a log line.
  toJSON(): string {
    return '[SecretBox]';
  }
}

function parse(ciphertext: string): { version: 'v1' | 'v2'; kid: string; iv: string; tag: string; data: string } {
  const parts = ciphertext.split('.');
  if (parts[0] === 'v1' && parts.length === 4) return { version: 'v1', kid: LEGACY_KID, iv: parts[1]!, tag: parts[2]!, data: parts[3]! };
  if (parts[0] === 'v2' && parts.length === 5 && KID.test(parts[1]!)) return { version: 'v2', kid: parts[1]!, iv: parts[2]!, tag: parts[3]!, data: parts[4]! };
  throw new Error('unrecognised ciphertext format');
}

/**
 * A column of a service's own schema holding SecretBox ciphertexts (text, nullable or not). Each service lists
 * them next to its database definition (`secretColumns` in `src/db/<name>.database.ts`); `npm run rotate-secrets`
 * re-encrypts them. `key` is the table's single-column primary key, `id` unless given.
 */
export interface SecretColumn {
  table: string;
  column: string;
  key?: string;
}

/** A development-only key so `npm start` works out of the box; production must set its own keys. */
export const DEV_ENCRYPTION_KEY = Buffer.alloc(32, 'domiq-dev-only-key').toString('base64');

/** True when a keyring (or single key) holds the development key; production refuses it. */
export function holdsDevKey(config: { DOMIQ_ENCRYPTION_KEYS?: string | undefined; DOMIQ_ENCRYPTION_KEY?: string | undefined }): boolean {
  return SecretBox.fromConfig(config).holdsKey(DEV_ENCRYPTION_KEY);
}

/** DOMIQ_ENCRYPTION_KEYS as a config variable: validated at start-up (exit 78 naming the bad entry); empty: use DOMIQ_ENCRYPTION_KEY. */
export const encryptionKeysConfig = () =>
  z.string().default('').superRefine((value, ctx) => {
    try {
      parseKeyring(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });
