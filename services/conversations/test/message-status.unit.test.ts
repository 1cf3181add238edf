import { describe, expect, it } from 'vitest';
import { MESSAGE_STATUSES, nextMessageStatus, type DeliveryStatus, type MessageStatus } from '../src/domain/message-status.ts';

const apply = (from: MessageStatus, updates: DeliveryStatus[]) => updates.reduce(nextMessageStatus, from);

describe('a reply\'s status: forward only, failed is final', () => {
  it('follows the provider\'s lifecycle pending -> sent -> delivered -> read', () => {
    expect(nextMessageStatus('pending', 'queued')).toBe('pending');
    expect(nextMessageStatus('pending', 'sent')).toBe('sent');
    expect(nextMessageStatus('sent', 'delivered')).toBe('delivered');
    expect(nextMessageStatus('delivered', 'read')).toBe('read');
  });

  it('ends the same whatever order the callbacks come in, and a duplicate changes nothing', () => {
    expect(apply('pending', ['delivered', 'sent', 'queued'])).toBe('delivered');
    expect(apply('pending', ['queued', 'sent', 'sent', 'delivered', 'delivered'])).toBe('delivered');
    expect(apply('pending', ['read', 'delivered'])).toBe('read');
  });

  it('fails from pending or sent (undelivered, failed, canceled), and nothing moves a failed message again', () => {
    for (const failure of ['undelivered', 'failed', 'canceled'] as const) {
      expect(nextMessageStatus('pending', failure)).toBe('failed');
      expect(nextMessageStatus('sent', failure)).toBe('failed');
    }
    expect(apply('pending', ['undelivered', 'sent', 'delivered'])).toBe('failed');
  });

  it('does not fail a message the customer already has, and ignores a status it does not know', () => {
    expect(nextMessageStatus('delivered', 'failed')).toBe('delivered');
    expect(nextMessageStatus('read', 'undelivered')).toBe('read');
    for (const s of MESSAGE_STATUSES) expect(nextMessageStatus(s, 'unknown')).toBe(s);
  });
});
