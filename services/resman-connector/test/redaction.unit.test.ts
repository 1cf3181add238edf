import { describe, expect, it } from 'vitest';
import { CARD_MASK, redactSensitive, SSN_MASK } from '../src/domain/redaction.ts';
import { eventComments, hasMessageMarker, inboundEventType, MAX_COMMENT_CHARS, messageMarker } from '../src/domain/communication.ts';
import { isPlaceholderEmail, personContact, resmanPhone } from '../src/domain/contact.ts';

describe('redactSensitive', () => {
  it.each([
    ['4111 1111 1111 1111'],
    ['4111-1111-1111-1111'],
    ['4111111111111111'],
    ['378282246310005'],
  ])('removes the card number %s', (card) => {
    const out = redactSensitive(`my card is ${card}, thanks`);
    expect(out).toBe(`my card is ${CARD_MASK}, thanks`);
  });

  it('keeps digit runs that are not card numbers (Luhn fails) and phone numbers', () => {
    expect(redactSensitive('order 4111111111111112')).toBe('order 4111111111111112');
    expect(redactSensitive('call me at +1 (415) 555-0100 or 415-555-0100')).toBe('call me at +1 (415) 555-0100 or 415-555-0100');
  });

  it('removes SSNs, formatted anywhere or bare when called one', () => {
    expect(redactSensitive('ssn 123-45-6789 ok')).toBe(`ssn ${SSN_MASK} ok`);
    expect(redactSensitive('it is 123 45 6789')).toBe(`it is ${SSN_MASK}`);
    expect(redactSensitive('My SSN: 123456789.')).toBe(`My SSN: ${SSN_MASK}.`);
    expect(redactSensitive('unit 123456789')).toBe('unit 123456789');
  });
});

describe('event comments', () => {
  it('carries the redacted text and the message marker', () => {
    const comments = eventComments('Card 4111 1111 1111 1111 please', 'msg-1');
    expect(comments).toBe(`Card ${CARD_MASK} please\n\n[domiq:msg-1]`);
    expect(hasMessageMarker(comments, 'msg-1')).toBe(true);
    expect(hasMessageMarker(comments, 'msg-2')).toBe(false);
  });

  it('cuts long text but keeps the marker', () => {
    const comments = eventComments('x'.repeat(10_000), 'msg-1');
    expect(comments.length).toBeLessThanOrEqual(MAX_COMMENT_CHARS);
    expect(comments.endsWith(messageMarker('msg-1'))).toBe(true);
  });

  it('maps channels to MITS event types', () => {
    expect(inboundEventType('sms')).toBe('TextFromProspect');
    expect(inboundEventType('email')).toBe('EmailFromProspect');
    expect(inboundEventType('web_chat')).toBe('Contact');
  });
});

describe('contact values', () => {
  it('drops placeholder emails and phones', () => {
    expect(isPlaceholderEmail('none@none.com')).toBe(true);
    expect(isPlaceholderEmail('jane@acme.test')).toBe(false);
    expect(resmanPhone('+1 000 000 0000')).toBeNull();
    expect(resmanPhone('555')).toBeNull();
    expect(resmanPhone('+14155550100')).toBe('4155550100');
    expect(resmanPhone('+442071838750')).toBe('442071838750');
  });

  it('splits the name and picks the first real email and phone', () => {
    expect(personContact({ name: ' Jane  Q Doe ', emails: ['none@none.com', 'jane@acme.test'], phoneNumbers: ['+10000000000', '+14155550100'] }))
      .toEqual({ firstName: 'Jane', lastName: 'Q Doe', email: 'jane@acme.test', phone: '4155550100' });
    expect(personContact({ name: '', emails: [], phoneNumbers: [] })).toEqual({ firstName: 'Unknown', lastName: null, email: null, phone: null });
  });
});
