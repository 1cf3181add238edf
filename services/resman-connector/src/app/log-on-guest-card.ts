// The ResMan side of a push: one customer's messages logged as events on their guest card (MITS LeadManagement 4.0
// PostLeadManagement4_0 takes several Events for one Prospect in one document, so a customer's pending messages go
// in one request), the card found, attached or created first. No database here: the queue worker
// (push-queued-leads.ts) records what it did.
import type { Channel } from '@domiq/proto/vocabulary';
import { eventComments, inboundEventType } from '../domain/communication.ts';
import type { PersonContact } from '../domain/contact.ts';
import { carriesAnyMessage, carriesMessage, createdByMessage, matchesEmail, matchesPhone, pickGuestCard } from '../domain/guest-card.ts';
import { buildGuestCardXml, type GuestCardEvent, type ResmanPerson, type ResmanProspect } from '../resman/mits.ts';
import type { ResmanClient } from '../resman/resman.client.ts';
import { ResmanApiError } from '../resman/resman.errors.ts';

/** A message the customer sent us, to log on their card. */
export interface GuestCardMessage {
  messageId: string;
  channel: Channel;
  /** The text (redacted again and cut to ResMan's limit here, the marker appended). */
  content: string;
  createdAt: Date;
}

export interface GuestCardInput {
  /** One customer's messages, oldest first (their events are posted in this order). At least one. */
  messages: GuestCardMessage[];
  contact: PersonContact;
  /** The prospect this customer is already mapped to at this property, if any. */
  mapping: { prospectId: string; personId: string | null } | null;
  /** True when an earlier attempt for any of these messages may already have reached ResMan. */
  mayAlreadyExist: boolean;
  agentId: string;
  prospectSourceId: string;
}

/** What became of one message. */
export interface LoggedMessage {
  messageId: string;
  eventType: string;
  /** The Comments sent (redacted, with the marker), for communication_log_sync.content. */
  comments: string;
  /** ResMan already had this message's event (an earlier attempt got through): it was not posted again. */
  alreadyInResman: boolean;
  /** This message's event is the card's first: the card was created for it (now or by an earlier attempt). */
  created: boolean;
}

export interface GuestCardOutcome {
  prospectId: string;
  personId: string;
  /** The card was created for one of these messages. */
  created: boolean;
  /** An existing ResMan prospect found by phone / email was attached to the customer. */
  attached: boolean;
  /** Every message was in ResMan already: nothing was posted. */
  alreadyInResman: boolean;
  /** In the order given. */
  messages: LoggedMessage[];
}

interface Planned {
  messageId: string;
  eventType: string;
  comments: string;
  eventDate: Date;
}

/**
 * Logs the messages on the customer's ResMan guest card in one post, creating or attaching the prospect first when
 * the customer has none yet. Safe to run again for the same messages: every event carries its message's
 * `[domiq:<messageId>]` marker, and whenever an earlier attempt may have reached ResMan the card is checked for the
 * markers first and only the messages it does not carry are posted.
 */
export async function logOnGuestCard(client: ResmanClient, input: GuestCardInput): Promise<GuestCardOutcome> {
  if (input.messages.length === 0) throw new Error('logOnGuestCard needs at least one message');
  const { contact } = input;
  const planned: Planned[] = input.messages.map((m) => ({
    messageId: m.messageId, eventType: inboundEventType(m.channel), comments: eventComments(m.content, m.messageId), eventDate: m.createdAt,
  }));
  const messageIds = planned.map((p) => p.messageId);
  const events = (list: Planned[], firstContact: boolean): GuestCardEvent[] => list.map((p, n) => ({
    eventType: p.eventType, eventDate: p.eventDate, agentId: input.agentId, firstContact: firstContact && n === 0,
    transactionSource: input.prospectSourceId, comments: p.comments,
  }));
  /** `posted`: the messages this attempt sent; `card`: the card as found before posting, when it was looked at. */
  const result = (ids: { prospectId: string; personId: string }, card: ResmanProspect | null, posted: Planned[], attached: boolean, createdNow = false): GuestCardOutcome => {
    const sent = new Set(posted.map((p) => p.messageId));
    const messages = planned.map((p, n): LoggedMessage => ({
      messageId: p.messageId, eventType: p.eventType, comments: p.comments, alreadyInResman: !sent.has(p.messageId),
      created: createdNow ? n === 0 : card !== null && createdByMessage(card, p.messageId),
    }));
    return { ...ids, created: messages.some((m) => m.created), attached, alreadyInResman: sent.size === 0, messages };
  };

  // The whole unit is retried, so a post that timed out after ResMan applied it is found, not repeated.
  return client.retrying(async (attempt) => {
    const mayExist = input.mayAlreadyExist || attempt > 0;
    let mapping = input.mapping;

    if (mapping !== null) {
      let card: ResmanProspect | null = null;
      let remaining = planned;
      if (mayExist) {
        const [prospect] = await client.searchProspects({ ProspectID: mapping.prospectId }, { retry: false });
        if (prospect === undefined) mapping = null;
        else {
          card = prospect;
          remaining = planned.filter((p) => !carriesMessage(prospect, p.messageId));
        }
      }
      if (mapping !== null) {
        const ids = { prospectId: mapping.prospectId, personId: mapping.personId ?? card?.people[0]?.personId ?? '' };
        if (remaining.length === 0) return result(ids, card, [], false);
        try {
          const xml = buildGuestCardXml({ customer: { prospectId: mapping.prospectId, personId: mapping.personId }, events: events(remaining, false) });
          return result(await client.postLeadManagement(xml), card, remaining, false);
        } catch (err) {
          // The mapped prospect was deleted or merged away in ResMan: find or create the customer's card again.
          if (!(err instanceof ResmanApiError && /could not be found/i.test(err.description))) throw err;
        }
      }
    }

    const existing = await findExistingCard(client, contact, mayExist, messageIds);
    if (existing !== null) {
      const { card, person } = existing;
      // A card one of these messages created (an earlier attempt got through) is the customer's own, not attached.
      const attached = !planned.some((p) => createdByMessage(card, p.messageId));
      const remaining = planned.filter((p) => !carriesMessage(card, p.messageId));
      if (remaining.length === 0) return result({ prospectId: card.prospectId, personId: person.personId }, card, [], attached);
      const xml = buildGuestCardXml({ customer: { prospectId: card.prospectId, personId: person.personId }, events: events(remaining, false) });
      return result(await client.postLeadManagement(xml), card, remaining, attached);
    }

    const xml = buildGuestCardXml({
      customer: { firstName: contact.firstName, lastName: contact.lastName, email: contact.email, phone: contact.phone },
      events: events(planned, true),
    });
    return result(await client.postLeadManagement(xml), null, planned, false, true);
  });
}

/**
 * The customer's existing ResMan prospect: by phone, then by email (RESMAN.md: attach, never duplicate). With
 * neither, a retry still looks the name up, but only accepts a card carrying one of these messages' markers.
 */
async function findExistingCard(
  client: ResmanClient, contact: PersonContact, mayExist: boolean, messageIds: string[],
): Promise<{ card: ResmanProspect; person: ResmanPerson } | null> {
  if (contact.phone !== null) {
    const found = pickGuestCard(await client.searchProspects({ Phone: contact.phone }, { retry: false }), messageIds, (p) => matchesPhone(p, contact.phone));
    if (found !== null) return found;
  }
  if (contact.email !== null) {
    const found = pickGuestCard(await client.searchProspects({ Email: contact.email }, { retry: false }), messageIds, (p) => matchesEmail(p, contact.email));
    if (found !== null) return found;
  }
  if (contact.phone === null && contact.email === null && mayExist && contact.lastName !== null) {
    const byName = await client.searchProspects({ FirstName: contact.firstName, LastName: contact.lastName }, { retry: false });
    return pickGuestCard(byName.filter((p) => carriesAnyMessage(p, messageIds)), messageIds, () => true);
  }
  return null;
}
