// Which ResMan guest card is the customer's, and what a card found on a retry says about an earlier attempt.
// Every event we post carries the message's `[domiq:<message id>]` marker (communication.ts), so the card itself
// records whether a message already reached it.
import { hasMessageMarker } from './communication.ts';
import { resmanPhone } from './contact.ts';

/** A person on a guest card, as a ResMan search returns it. */
export interface CardPerson {
  personId: string;
  email: string | null;
  phones: string[];
}

/** A guest card (ResMan prospect) as a search returns it: its people and its events, oldest first. */
export interface GuestCardRecord<P extends CardPerson = CardPerson> {
  prospectId: string;
  people: P[];
  events: Array<{ comments: string | null }>;
}

/** The card already has this message's event: an earlier attempt got through. */
export function carriesMessage(card: GuestCardRecord, messageId: string): boolean {
  return card.events.some((e) => hasMessageMarker(e.comments, messageId));
}

/** The card was created for this message: its first event is the message's. */
export function createdByMessage(card: GuestCardRecord, messageId: string): boolean {
  return hasMessageMarker(card.events[0]?.comments, messageId);
}

/** The person has this (ResMan-form) phone number; never true for no number. */
export function matchesPhone(person: CardPerson, phone: string | null): boolean {
  return phone !== null && person.phones.some((p) => resmanPhone(p) === phone);
}

/** The person has this email address, in any case; never true for no address. */
export function matchesEmail(person: CardPerson, email: string | null): boolean {
  return email !== null && person.email?.toLowerCase() === email.toLowerCase();
}

/** The card already has the event of one of these messages. */
export function carriesAnyMessage(card: GuestCardRecord, messageIds: readonly string[]): boolean {
  return messageIds.some((id) => carriesMessage(card, id));
}

/**
 * The customer's card among those a search found: one already carrying the event of one of these messages first (a
 * retry must find the card its earlier attempt wrote to), then the others in ResMan's order. On it, the person
 * `matches` picks, else its first person; cards without people are passed over.
 */
export function pickGuestCard<C extends GuestCardRecord>(
  cards: C[], messageIds: string | readonly string[], matches: (person: C['people'][number]) => boolean,
): { card: C; person: C['people'][number] } | null {
  const ids = typeof messageIds === 'string' ? [messageIds] : messageIds;
  const ordered = [...cards.filter((c) => carriesAnyMessage(c, ids)), ...cards.filter((c) => !carriesAnyMessage(c, ids))];
  for (const card of ordered) {
    const person = card.people.find(matches) ?? card.people[0];
    if (person !== undefined) return { card, person };
  }
  return null;
}
