import { describe, expect, it } from 'vitest';
import { messageMarker, notLoggedReason } from '../src/domain/communication.ts';
import { carriesMessage, createdByMessage, matchesEmail, matchesPhone, pickGuestCard, type CardPerson, type GuestCardRecord } from '../src/domain/guest-card.ts';

const MESSAGE = '6f1c1c7e-2d55-4c1e-9a53-0f6c2a9b7d10';
const person = (personId: string, over: Partial<CardPerson> = {}): CardPerson => ({ personId, email: null, phones: [], ...over });
const card = (prospectId: string, people: CardPerson[], comments: Array<string | null> = []): GuestCardRecord => ({
  prospectId, people, events: comments.map((c) => ({ comments: c })),
});

describe('which messages are logged to ResMan', () => {
  it('logs what a customer sent us about a property, nothing else', () => {
    expect(notLoggedReason({ direction: 'inbound', senderType: 'customer', propertyId: 'p' })).toBeNull();
    expect(notLoggedReason({ direction: 'outbound', senderType: 'agent', propertyId: 'p' })).toBe('not an inbound customer message');
    expect(notLoggedReason({ direction: 'inbound', senderType: 'ai', propertyId: 'p' })).toBe('not an inbound customer message');
    expect(notLoggedReason({ direction: 'inbound', senderType: 'customer', propertyId: '' })).toBe('message has no property');
  });
});

describe('guest card markers', () => {
  it('tells a card that has the message from one that does not, and one the message created', () => {
    const created = card('P1', [person('a')], [`hi\n\n${messageMarker(MESSAGE)}`, 'later']);
    const later = card('P2', [person('a')], ['first', `${messageMarker(MESSAGE)}`]);
    const other = card('P3', [person('a')], ['first', null]);
    expect([carriesMessage(created, MESSAGE), createdByMessage(created, MESSAGE)]).toEqual([true, true]);
    expect([carriesMessage(later, MESSAGE), createdByMessage(later, MESSAGE)]).toEqual([true, false]);
    expect([carriesMessage(other, MESSAGE), createdByMessage(other, MESSAGE)]).toEqual([false, false]);
    expect(createdByMessage(card('P4', [person('a')]), MESSAGE)).toBe(false);
  });
});

describe('matching a person', () => {
  it('by phone in ResMan form, whatever the stored formatting', () => {
    const p = person('a', { phones: ['(415) 555-0100', '+1 415 555 0101'] });
    expect(matchesPhone(p, '4155550101')).toBe(true);
    expect(matchesPhone(p, '4155550199')).toBe(false);
    expect(matchesPhone(p, null)).toBe(false);
    expect(matchesPhone(person('b', { phones: ['000-000-0000'] }), null)).toBe(false);
  });

  it('by email in any case; never on no email', () => {
    expect(matchesEmail(person('a', { email: 'JANE@acme.test' }), 'jane@ACME.test')).toBe(true);
    expect(matchesEmail(person('a', { email: 'jane@acme.test' }), 'joe@acme.test')).toBe(false);
    expect(matchesEmail(person('a'), null)).toBe(false);
  });
});

describe('pickGuestCard', () => {
  const jane = (p: CardPerson) => p.personId === 'jane';

  it('takes the first card in ResMan order, and on it the matching person, else its first', () => {
    const cards = [card('P1', [person('sam'), person('jane')]), card('P2', [person('jane')])];
    expect(pickGuestCard(cards, MESSAGE, jane)).toMatchObject({ card: { prospectId: 'P1' }, person: { personId: 'jane' } });
    expect(pickGuestCard(cards, MESSAGE, () => false)).toMatchObject({ card: { prospectId: 'P1' }, person: { personId: 'sam' } });
  });

  it('prefers the card already carrying this message, so a retry finds its own card', () => {
    const cards = [card('P1', [person('jane')]), card('P2', [person('jane')], [messageMarker(MESSAGE)])];
    expect(pickGuestCard(cards, MESSAGE, jane)?.card.prospectId).toBe('P2');
  });

  it('passes over cards without people, and finds nothing in none', () => {
    expect(pickGuestCard([card('P1', []), card('P2', [person('x')])], MESSAGE, jane)).toMatchObject({ card: { prospectId: 'P2' }, person: { personId: 'x' } });
    expect(pickGuestCard([card('P1', [])], MESSAGE, jane)).toBeNull();
    expect(pickGuestCard([], MESSAGE, jane)).toBeNull();
  });
});
