import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEV_ENCRYPTION_KEY, holdsDevKey, keyringFromConfig, parseKeyring, SecretBox } from '../src/index.ts';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');

/** A ciphertext in the format written before key ids (v1.<iv>.<tag>.<data>). */
function v1Encrypt(base64Key: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(base64Key, 'base64'), iv);
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
}

describe('SecretBox keyring', () => {
  it('encrypts under the first key as v2.<kid>, and reads every key of the ring', () => {
    const old = new SecretBox(`k1:${k1}`);
    const c1 = old.encrypt('api-key-1');
    expect(c1.startsWith('v2.k1.')).toBe(true);
    expect(old.currentKid).toBe('k1');

    const rotated = new SecretBox(`k2:${k2}, k1:${k1}`);
    expect(rotated.currentKid).toBe('k2');
    expect(rotated.kids).toEqual(['k2', 'k1']);
    expect(rotated.decrypt(c1)).toBe('api-key-1');
    expect(rotated.kidOf(c1)).toBe('k1');
    const c2 = rotated.encrypt('api-key-2');
    expect(rotated.kidOf(c2)).toBe('k2');
    // The old ring cannot read what the new key wrote: add the new key everywhere before rotating.
    expect(() => old.decrypt(c2)).toThrow(/key k2, which is not in the keyring/);
  });

  it('re-encrypts under the current key, and leaves current ciphertexts alone', () => {
    const box = new SecretBox([{ kid: 'k2', key: k2 }, { kid: 'k1', key: k1 }]);
    const under1 = new SecretBox(`k1:${k1}`).encrypt('twilio-token');
    const moved = box.reencrypt(under1);
    expect(box.kidOf(moved)).toBe('k2');
    expect(box.decrypt(moved)).toBe('twilio-token');
    expect(box.reencrypt(moved)).toBe(moved);
    expect(box.isCurrent(moved)).toBe(true);
    expect(box.isCurrent(under1)).toBe(false);
  });

  it('reads v1 ciphertexts as kid k0, and a single DOMIQ_ENCRYPTION_KEY is kid k0', () => {
    const legacy = v1Encrypt(k1, 'written-before-kids');
    const single = new SecretBox(k1);
    expect(single.currentKid).toBe('k0');
    expect(single.kidOf(legacy)).toBe('k0');
    expect(single.decrypt(legacy)).toBe('written-before-kids');
    expect(single.reencrypt(legacy)).toBe(legacy); // already under the current kid
    const ring = new SecretBox(`k1:${k2},k0:${k1}`);
    expect(ring.decrypt(legacy)).toBe('written-before-kids');
    const upgraded = ring.reencrypt(legacy);
    expect(upgraded.startsWith('v2.k1.')).toBe(true);
    expect(ring.decrypt(upgraded)).toBe('written-before-kids');
    expect(() => new SecretBox(`k1:${k2}`).decrypt(legacy)).toThrow(/key k0/);
  });

  it('binds the kid: relabelling a ciphertext to another kid fails even when that kid has the same key bytes', () => {
    const box = new SecretBox(`a:${k1},b:${k1}`);
    const c = box.encrypt('secret');
    expect(box.decrypt(c)).toBe('secret');
    const relabelled = c.replace(/^v2\.a\./, 'v2.b.');
    expect(relabelled).not.toBe(c);
    expect(() => box.decrypt(relabelled)).toThrow();
    // Downgrading to v1 (no AAD) fails too.
    const [, , iv, tag, data] = c.split('.');
    expect(() => new SecretBox(`k0:${k1}`).decrypt(['v1', iv, tag, data].join('.'))).toThrow();
  });

  it('rejects malformed keyrings and ciphertexts without echoing keys', () => {
    expect(() => parseKeyring(`k1:${k1},k1:${k2}`)).toThrow(/k1 appears twice/);
    expect(() => parseKeyring('k1:c2hvcnQ=')).toThrow(/k1 must be 32 bytes/);
    expect(() => parseKeyring(k1)).toThrow(/entry 1 must be <kid>:<base64 key>/);
    expect(() => parseKeyring(`bad.kid:${k1}`)).toThrow(/entry 1/);
    try {
      parseKeyring(`k1:${k1},k2:${k2.slice(0, 20)}`);
    } catch (err) {
      expect(String(err)).not.toContain(k1);
    }
    expect(parseKeyring('')).toEqual([]);
    expect(() => new SecretBox([])).toThrow(/no key/);
    const box = new SecretBox(`k1:${k1}`);
    for (const bad of ['', 'v3.k1.a.b.c', 'v2.k1.a.b', 'v2.bad kid.a.b.c', 'plaintext']) expect(() => box.kidOf(bad), bad).toThrow(/unrecognised/);
    expect(JSON.stringify({ box })).toBe('{"box":"[SecretBox]"}');
  });

  it('takes DOMIQ_ENCRYPTION_KEYS over DOMIQ_ENCRYPTION_KEY and spots the development key anywhere in the ring', () => {
    expect(keyringFromConfig({ DOMIQ_ENCRYPTION_KEYS: `k2:${k2}`, DOMIQ_ENCRYPTION_KEY: k1 })).toEqual({ variable: 'DOMIQ_ENCRYPTION_KEYS', entries: [{ kid: 'k2', key: k2 }] });
    expect(keyringFromConfig({ DOMIQ_ENCRYPTION_KEYS: '', DOMIQ_ENCRYPTION_KEY: k1 })).toEqual({ variable: 'DOMIQ_ENCRYPTION_KEY', entries: [{ kid: 'k0', key: k1 }] });
    expect(SecretBox.fromConfig({ DOMIQ_ENCRYPTION_KEYS: `k2:${k2},k1:${k1}` }).currentKid).toBe('k2');
    expect(holdsDevKey({ DOMIQ_ENCRYPTION_KEY: DEV_ENCRYPTION_KEY })).toBe(true);
    expect(holdsDevKey({ DOMIQ_ENCRYPTION_KEYS: `k2:${k2},dev:${DEV_ENCRYPTION_KEY}` })).toBe(true);
    expect(holdsDevKey({ DOMIQ_ENCRYPTION_KEYS: `k2:${k2}`, DOMIQ_ENCRYPTION_KEY: DEV_ENCRYPTION_KEY })).toBe(false);
    expect(holdsDevKey({ DOMIQ_ENCRYPTION_KEY: k1 })).toBe(false);
  });
});
