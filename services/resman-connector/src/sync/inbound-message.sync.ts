// Logs one inbound DomIQ message on the customer's ResMan guest card, creating or attaching the prospect
// first when the customer has none yet. Safe to run again for the same message: every event carries the
// `[domiq:<messageId>]` marker, and whenever an earlier attempt may have reached ResMan the prospect's
// events are checked for it before anything is posted.
import { eventComments, hasMessageMarker, inboundEventType } from '../domain/communication.ts';
import { resmanPhone, type PersonContact } from '../domain/contact.ts';
import { buildGuestCardXml, type GuestCardEvent, type ResmanPerson, type ResmanProspect } from '../resman/mits.ts';
import type { ResmanClient } from '../resman/resman.client.ts';
import { ResmanApiError } from '../resman/resman.errors.ts';

export interface InboundMessage {
  messageId: string;
  channel: string;
  content: string;
  createdAt: Date;
}

export interface InboundSyncInput {
  message: InboundMessage;
  contact: PersonContact;
  /** The prospect this customer is already mapped to at this property, if any. */
  mapping: { prospectId: string; personId: string | null } | null;
  /** True when an earlier attempt for this message may already have reached ResMan. */
  mayAlreadyExist: boolean;
  agentId: string;
  prospectSourceId: string;
}

export interface InboundSyncOutcome {
  prospectId: string;
  personId: string;
  eventType: string;
  /** A new guest card was created for this message. */
  created: boolean;
  /** An existing ResMan prospect found by phone / email was attached to the customer. */
  attached: boolean;
  /** ResMan already had this message's event (an earlier attempt got through); nothing was posted. */
  alreadyInResman: boolean;
  /** The Comments sent (redacted), for communication_log_sync.content. */
  comments: string;
}

const matchesPhone = (person: ResmanPerson, phone: string | null) => phone !== null && person.phones.some((p) => resmanPhone(p) === phone);
const matchesEmail = (person: ResmanPerson, email: string | null) => email !== null && person.email?.toLowerCase() === email.toLowerCase();

export async function logInboundMessage(client: ResmanClient, input: InboundSyncInput): Promise<InboundSyncOutcome> {
  const { message, contact } = input;
  const eventType = inboundEventType(message.channel);
  const comments = eventComments(message.content, message.messageId);
  const event = (firstContact: boolean): GuestCardEvent => ({
    eventType, eventDate: message.createdAt, agentId: input.agentId, firstContact, transactionSource: input.prospectSourceId, comments,
  });
  const carriesMarker = (prospect: ResmanProspect) => prospect.events.some((e) => hasMessageMarker(e.comments, message.messageId));
  const result = (ids: { prospectId: string; personId: string }, flags: Partial<Pick<InboundSyncOutcome, 'created' | 'attached' | 'alreadyInResman'>>): InboundSyncOutcome =>
    ({ ...ids, eventType, comments, created: false, attached: false, alreadyInResman: false, ...flags });

  // The whole unit is retried, so a post that timed out after ResMan applied it is found, not repeated.
  return client.retrying(async (attempt) => {
    const mayExist = input.mayAlreadyExist || attempt > 0;
    let mapping = input.mapping;

    if (mapping !== null) {
      if (mayExist) {
        const [prospect] = await client.searchProspects({ ProspectID: mapping.prospectId }, { retry: false });
        if (prospect === undefined) {
          mapping = null;
        } else if (carriesMarker(prospect)) {
          // The mapping may have been recorded by the earlier attempt of this very message (it is written under
          // the customer's lock, before the attempt's own commit): then this message created the card.
          const created = hasMessageMarker(prospect.events[0]?.comments, message.messageId);
          return result({ prospectId: prospect.prospectId, personId: mapping.personId ?? prospect.people[0]?.personId ?? '' }, { alreadyInResman: true, created });
        }
      }
      if (mapping !== null) {
        try {
          const xml = buildGuestCardXml({ customer: { prospectId: mapping.prospectId, personId: mapping.personId }, events: [event(false)] });
          return result(await client.postLeadManagement(xml), {});
        } catch (err) {
          // The mapped prospect was deleted or merged away in ResMan: find or create the customer's card again.
          if (!(err instanceof ResmanApiError && /could not be found/i.test(err.description))) throw err;
        }
      }
    }

    const existing = await findExisting(client, contact, mayExist, carriesMarker);
    if (existing !== null) {
      const { prospect, person } = existing;
      if (carriesMarker(prospect)) {
        // An earlier attempt got through; it created the card if this message is the card's first event.
        const created = hasMessageMarker(prospect.events[0]?.comments, message.messageId);
        return result({ prospectId: prospect.prospectId, personId: person.personId }, { alreadyInResman: true, created, attached: !created });
      }
      const xml = buildGuestCardXml({ customer: { prospectId: prospect.prospectId, personId: person.personId }, events: [event(false)] });
      return result(await client.postLeadManagement(xml), { attached: true });
    }

    const xml = buildGuestCardXml({
      customer: { firstName: contact.firstName, lastName: contact.lastName, email: contact.email, phone: contact.phone },
      events: [event(true)],
    });
    return result(await client.postLeadManagement(xml), { created: true });
  });
}

/**
 * The customer's existing ResMan prospect: by phone, then by email (RESMAN.md: attach, never duplicate). With
 * neither, a retry still looks the name up, but only accepts a card carrying this message's marker.
 */
async function findExisting(
  client: ResmanClient,
  contact: PersonContact,
  mayExist: boolean,
  carriesMarker: (p: ResmanProspect) => boolean,
): Promise<{ prospect: ResmanProspect; person: ResmanPerson } | null> {
  const pick = (prospects: ResmanProspect[], matches: (person: ResmanPerson) => boolean) => {
    const ordered = [...prospects.filter(carriesMarker), ...prospects.filter((p) => !carriesMarker(p))];
    for (const prospect of ordered) {
      const person = prospect.people.find(matches) ?? prospect.people[0];
      if (person !== undefined) return { prospect, person };
    }
    return null;
  };
  if (contact.phone !== null) {
    const found = pick(await client.searchProspects({ Phone: contact.phone }, { retry: false }), (p) => matchesPhone(p, contact.phone));
    if (found !== null) return found;
  }
  if (contact.email !== null) {
    const found = pick(await client.searchProspects({ Email: contact.email }, { retry: false }), (p) => matchesEmail(p, contact.email));
    if (found !== null) return found;
  }
  if (contact.phone === null && contact.email === null && mayExist && contact.lastName !== null) {
    const byName = await client.searchProspects({ FirstName: contact.firstName, LastName: contact.lastName }, { retry: false });
    return pick(byName.filter(carriesMarker), () => true);
  }
  return null;
}
