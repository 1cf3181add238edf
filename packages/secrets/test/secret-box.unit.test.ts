import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox } from '../src/index.ts';

const key = randomBytes(32).toString('base64');

describe('SecretBox', () => {
  it('round-trips and never produces the same ciphertext twice or contains the plaintext', () => {
    const box = new SecretBox(key);
    const a = box.encrypt('twilio-auth-token');
    const b = box.encrypt('twilio-auth-token');
    expect(a).not.toBe(b);
    expect(a).not.toContain('twilio-auth-token');
    expect(box.decrypt(a)).toBe('twilio-auth-token');
  });
  it('refuses tampered ciphertext and the wrong key', () => {
    const box = new SecretBox(key);
    const c = box.encrypt('secret');
    const parts = c.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => box.decrypt(parts.join('.'))).toThrow();
    expect(() => new SecretBox(randomBytes(32).toString('base64')).decrypt(c)).toThrow();
  });
  it('rejects a key that is not 32 bytes and never serialises itself', () => {
    expect(() => new SecretBox(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
    expect(JSON.stringify({ box: new SecretBox(key) })).toBe('{"box":"[SecretBox]"}');
  });
});
