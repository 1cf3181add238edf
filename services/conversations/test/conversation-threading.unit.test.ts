import { describe, expect, it } from 'vitest';
import { chooseThread, identifierKindForChannel } from '../src/domain/conversation-threading.ts';

const now = new Date('2026-11-22T12:00:00Z');
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);

describe('chooseThread', () => {
  it('creates a conversation for a first contact', () => {
    expect(chooseThread(null, now)).toBe('create');
  });
  it('continues an active conversation', () => {
    expect(chooseThread({ state: 'open', lastMessageAt: hoursAgo(2), createdAt: hoursAgo(3) }, now)).toBe('continue');
  });
  it('starts over when an unresolved conversation has been idle past the window', () => {
    expect(chooseThread({ state: 'awaiting_customer', lastMessageAt: hoursAgo(24 * 8), createdAt: hoursAgo(24 * 9) }, now)).toBe('create');
  });
  it('reopens a conversation resolved within the reopen window, and not after it', () => {
    expect(chooseThread({ state: 'resolved', resolvedAt: hoursAgo(24), createdAt: hoursAgo(48) }, now)).toBe('reopen');
    expect(chooseThread({ state: 'resolved', resolvedAt: hoursAgo(24 * 8), createdAt: hoursAgo(24 * 9) }, now)).toBe('create');
  });
});

describe('identifierKindForChannel', () => {
  it('maps phone-addressed channels to phones and email to email', () => {
    expect(identifierKindForChannel('sms')).toBe('IDENTIFIER_KIND_PHONE');
    expect(identifierKindForChannel('whatsapp')).toBe('IDENTIFIER_KIND_PHONE');
    expect(identifierKindForChannel('email')).toBe('IDENTIFIER_KIND_EMAIL');
    expect(identifierKindForChannel('facebook')).toBe('IDENTIFIER_KIND_SOCIAL');
  });
});
