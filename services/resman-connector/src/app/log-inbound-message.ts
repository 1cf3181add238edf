// Use case: a customer's inbound message is logged on their ResMan guest card (a MITS event), the card created
// or attached first when they have none yet. It runs in the two steps of the consumer that calls it:
// - pushInboundMessage, in the consumer's prepare, under the customer's lock (docs/decisions.md, "Per-customer
//   serialisation across connector replicas"). No transaction is held across the ResMan calls, so what the section
//   relies on commits by itself: the pending communication before ResMan is called (a crash after ResMan answered
//   is seen on redelivery), the failure when the push does not go through (the consumer's transaction will not
//   run), and the mapping before the lock is let go.
// - recordLeadSync, in the consumer's transaction: the sync recorded, resman.lead.synced emitted.
import { inTransaction, type UnitOfWork } from '@domiq/bus';
import type { MikroORM } from '@domiq/db';
import type { Logger } from '@domiq/logging';
import { events } from '@domiq/proto/events';
import type { SecretBox } from '@domiq/secrets';
import { CommunicationLogSync } from '../db/communication-log.entities.ts';
import type { LockLease } from '../db/customer-lock.ts';
import { ResmanIntegration, type IntegrationRow } from '../db/integration.entities.ts';
import { LeadSyncConflict, LeadSyncLog } from '../db/lead-sync.entities.ts';
import {
  claimCommunication, findMapping, findOtherCustomersOfProspect, recordContactSync, recordProspectMapping, recordSyncedMapping,
} from '../db/lead-sync.repository.ts';
import { communicationType, eventComments, inboundEventType } from '../domain/communication.ts';
import type { PersonContact } from '../domain/contact.ts';
import { carriesMessage, createdByMessage, matchesEmail, matchesPhone, pickGuestCard } from '../domain/guest-card.ts';
import { redactSensitive } from '../domain/redaction.ts';
import { afterFailedPush, afterSuccessfulPush } from '../domain/resman-integration.ts';
import { openCredentials } from '../resman/credentials.ts';
import { buildGuestCardXml, type GuestCardEvent, type ResmanPerson, type ResmanProspect } from '../resman/mits.ts';
import type { ResmanClient, ResmanConnections } from '../resman/resman.client.ts';
import { isPermanent, ResmanApiError, ResmanAuthError, ResmanError } from '../resman/resman.errors.ts';
import type { Channel } from '@domiq/proto/vocabulary';

/** A message a customer sent us about a property (conversations.message.created, checked by the consumer). */
export interface InboundCustomerMessage {
  accountId: string;
  propertyId: string;
  customerId: string;
  conversationId: string | null;
  messageId: string;
  channel: Channel;
  content: string;
  createdAt: Date;
}

export interface InboundMessagePush {
  message: InboundCustomerMessage;
  /** The property's integration, one that pushes (pushesToResman). */
  integration: IntegrationRow;
  /** The customer as ResMan may see them. */
  contact: PersonContact;
}

/** Where the push goes and where its bookkeeping is written. */
export interface GuestCardPushDeps {
  orm: MikroORM;
  resman: ResmanConnections;
  box: SecretBox;
}

/** Which message a push attempt was about, and where it went. */
interface PushAttempt {
  communicationId: string;
  integrationId: string;
  accountId: string;
  propertyId: string;
  customerId: string;
  conversationId: string | null;
  messageId: string;
  syncType: 'create' | 'update';
  processingTimeMs: number;
}

/** What a push did, for recordLeadSync to record. */
export interface PushedMessage extends PushAttempt {
  prospectId: string;
  personId: string;
  eventType: string;
  /** The Comments sent (redacted). */
  content: string;
  created: boolean;
  attached: boolean;
  alreadyInResman: boolean;
}

/**
 * The prepare step: claims the message, logs it on the customer's card in ResMan, and records the customer's card.
 * Call it holding the customer's lock (`lease`). 'already_logged': an earlier delivery completed it. A push that
 * does not go through is recorded and its error rethrown (`isPermanent`: redelivery cannot help).
 */
export async function pushInboundMessage(deps: GuestCardPushDeps, push: InboundMessagePush, lease: LockLease, logger: Logger): Promise<PushedMessage | 'already_logged'> {
  const { message: m, integration } = push;
  const started = performance.now();
  // Outside any transaction: each write on it commits at once.
  const em = deps.orm.em.fork({ clear: true });
  const mapping = await findMapping(em, m);
  const eventType = inboundEventType(m.channel);
  const claim = await claimCommunication(em, {
    accountId: m.accountId, propertyId: m.propertyId, customerId: m.customerId, conversationId: m.conversationId, messageId: m.messageId,
    communicationType: communicationType(m.channel), content: redactSensitive(m.content), timestamp: m.createdAt,
    syncType: mapping ? 'update' : 'create', eventType,
  });
  if (claim.state === 'done') return 'already_logged';

  const client = deps.resman.client({
    baseUrl: integration.baseUrl,
    accountId: integration.resmanAccountId,
    propertyId: integration.resmanPropertyId,
    credentials: openCredentials(deps.box, integration.apiCredentials),
  });
  const common = {
    communicationId: claim.id, integrationId: integration.id, accountId: m.accountId, propertyId: m.propertyId,
    customerId: m.customerId, conversationId: m.conversationId, messageId: m.messageId,
  };
  let outcome: GuestCardOutcome;
  try {
    outcome = await logOnGuestCard(client, {
      message: m,
      contact: push.contact,
      mapping: mapping ? { prospectId: mapping.resmanLeadId, personId: mapping.resmanPersonId ?? null } : null,
      mayAlreadyExist: !claim.firstAttempt,
      agentId: integration.defaultAgentId,
      prospectSourceId: integration.prospectSourceId,
    });
  } catch (err) {
    const failure: FailedPush = {
      ...common, prospectId: mapping?.resmanLeadId ?? null, syncType: mapping ? 'update' : 'create', terminal: isPermanent(err),
      auth: err instanceof ResmanAuthError, errorCode: err instanceof ResmanError ? err.code : 'internal',
      errorMessage: String((err as Error).message ?? err), processingTimeMs: Math.round(performance.now() - started),
    };
    // No events: the actor is never written.
    await inTransaction(deps.orm, { actorType: 'system' }, (uow) => recordFailedPush(uow, failure))
      .catch((recordErr: unknown) => logger.error({ err: String(recordErr) }, 'could not record the failed ResMan sync'));
    throw err;
  }
  // Still under the lock: the customer's card is recorded now, not when the consumer's transaction commits, which
  // happens after the lock is released. Lost lock: fail (redelivered; the marker makes the retry add nothing).
  if (mapping?.resmanLeadId !== outcome.prospectId) {
    lease.assertHeld();
    await recordProspectMapping(em, { accountId: m.accountId, propertyId: m.propertyId, customerId: m.customerId, conversationId: m.conversationId, prospectId: outcome.prospectId, personId: outcome.personId });
  }
  return {
    ...common, prospectId: outcome.prospectId, personId: outcome.personId, eventType: outcome.eventType, content: outcome.comments,
    syncType: outcome.created ? 'create' : 'update', created: outcome.created, attached: outcome.attached, alreadyInResman: outcome.alreadyInResman,
    processingTimeMs: Math.round(performance.now() - started),
  };
}

/**
 * The consumer's transaction: the communication logged, the mapping and contact completed, a possible duplicate
 * lead kept for review, the integration's health restored, and resman.lead.synced emitted.
 */
export async function recordLeadSync(uow: UnitOfWork, s: PushedMessage): Promise<void> {
  const { em } = uow;
  const comm = await em.findOneOrFail(CommunicationLogSync, { id: s.communicationId, accountId: s.accountId });
  Object.assign(comm, { syncStatus: 'success', resmanProspectId: s.prospectId, syncType: s.syncType, content: s.content, resmanEventType: s.eventType, lastError: null });
  em.create(LeadSyncLog, {
    accountId: s.accountId, propertyId: s.propertyId, customerId: s.customerId, conversationId: s.conversationId, messageId: s.messageId,
    resmanLeadId: s.prospectId, syncDirection: 'to_resman', syncStatus: 'success', syncType: s.syncType,
    syncData: { messageId: s.messageId, eventType: s.eventType, created: s.created, attached: s.attached, alreadyInResman: s.alreadyInResman },
    responseData: { prospectId: s.prospectId, personId: s.personId },
    retryCount: comm.retryCount, processingTimeMs: s.processingTimeMs,
  });
  const mapping = await recordSyncedMapping(em, s);
  if (!mapping) throw new Error(`lead_sync_mapping for property ${s.propertyId} belongs to another account`);
  await recordContactSync(em, s);
  if (s.attached) await recordDuplicateLeads(uow, s);
  const integration = await em.findOne(ResmanIntegration, { id: s.integrationId, accountId: s.accountId });
  if (integration) Object.assign(integration, afterSuccessfulPush(integration, new Date()));
  uow.emit(events.leadSynced, {
    accountId: s.accountId, propertyId: s.propertyId, customerId: s.customerId, conversationId: s.conversationId ?? '',
    prospectId: s.prospectId, personId: s.personId, created: s.created,
  }, { entityId: mapping.id, accountId: s.accountId, customerId: s.customerId, conversationId: s.conversationId });
}

// Another DomIQ customer of this property already maps to the prospect we attached to: identity may not
// have merged two identities of one person yet. Kept for review instead of refused.
async function recordDuplicateLeads(uow: UnitOfWork, s: PushedMessage): Promise<void> {
  const others = await findOtherCustomersOfProspect(uow.em, s);
  for (const other of others) {
    uow.em.create(LeadSyncConflict, {
      accountId: s.accountId, propertyId: s.propertyId, customerId: s.customerId, conversationId: s.conversationId, resmanLeadId: s.prospectId,
      conflictType: 'duplicate_lead', conflictField: 'customer_id', resmanValue: { prospectId: s.prospectId },
      domiqValue: { customerIds: [other.customerId, s.customerId] }, conflictSeverity: 'medium', resolutionStatus: 'manual_review',
    });
  }
}

interface FailedPush extends PushAttempt {
  prospectId: string | null;
  /** Redelivery cannot help: the message is dead-lettered. */
  terminal: boolean;
  auth: boolean;
  errorCode: string;
  errorMessage: string;
}

/** Its own transaction, in prepare: the consumer's rolls back (or never starts) when the push fails. */
async function recordFailedPush(uow: UnitOfWork, f: FailedPush): Promise<void> {
  const { em } = uow;
  const comm = await em.findOne(CommunicationLogSync, { id: f.communicationId, accountId: f.accountId });
  if (comm && comm.syncStatus !== 'success') {
    comm.syncStatus = f.terminal ? 'failed' : 'pending';
    comm.lastError = f.errorMessage.slice(0, 2000);
  }
  em.create(LeadSyncLog, {
    accountId: f.accountId, propertyId: f.propertyId, customerId: f.customerId, conversationId: f.conversationId, messageId: f.messageId,
    resmanLeadId: f.prospectId, syncDirection: 'to_resman', syncStatus: f.terminal ? 'failed' : 'retry', syncType: f.syncType,
    errorMessage: f.errorMessage.slice(0, 2000), errorCode: f.errorCode.slice(0, 100), retryCount: comm?.retryCount ?? 0,
    processingTimeMs: f.processingTimeMs,
  });
  const integration = await em.findOne(ResmanIntegration, { id: f.integrationId, accountId: f.accountId });
  if (integration) Object.assign(integration, afterFailedPush(integration, { auth: f.auth }, new Date()));
}

// ---------------------------------------------------------------- the ResMan calls

export interface GuestCardInput {
  message: { messageId: string; channel: Channel; content: string; createdAt: Date };
  contact: PersonContact;
  /** The prospect this customer is already mapped to at this property, if any. */
  mapping: { prospectId: string; personId: string | null } | null;
  /** True when an earlier attempt for this message may already have reached ResMan. */
  mayAlreadyExist: boolean;
  agentId: string;
  prospectSourceId: string;
}

export interface GuestCardOutcome {
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

/**
 * Logs the message on the customer's ResMan guest card, creating or attaching the prospect first when the
 * customer has none yet. Safe to run again for the same message: every event carries the `[domiq:<messageId>]`
 * marker, and whenever an earlier attempt may have reached ResMan the prospect's events are checked for it
 * before anything is posted.
 */
export async function logOnGuestCard(client: ResmanClient, input: GuestCardInput): Promise<GuestCardOutcome> {
  const { message, contact } = input;
  const eventType = inboundEventType(message.channel);
  const comments = eventComments(message.content, message.messageId);
  const event = (firstContact: boolean): GuestCardEvent => ({
    eventType, eventDate: message.createdAt, agentId: input.agentId, firstContact, transactionSource: input.prospectSourceId, comments,
  });
  const result = (ids: { prospectId: string; personId: string }, flags: Partial<Pick<GuestCardOutcome, 'created' | 'attached' | 'alreadyInResman'>>): GuestCardOutcome =>
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
        } else if (carriesMessage(prospect, message.messageId)) {
          // The mapping may have been recorded by the earlier attempt of this very message (it is written under
          // the customer's lock, before the attempt's own commit): then this message created the card.
          const created = createdByMessage(prospect, message.messageId);
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

    const existing = await findExistingCard(client, contact, mayExist, message.messageId);
    if (existing !== null) {
      const { card, person } = existing;
      if (carriesMessage(card, message.messageId)) {
        // An earlier attempt got through; it created the card if this message is the card's first event.
        const created = createdByMessage(card, message.messageId);
        return result({ prospectId: card.prospectId, personId: person.personId }, { alreadyInResman: true, created, attached: !created });
      }
      const xml = buildGuestCardXml({ customer: { prospectId: card.prospectId, personId: person.personId }, events: [event(false)] });
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
async function findExistingCard(
  client: ResmanClient, contact: PersonContact, mayExist: boolean, messageId: string,
): Promise<{ card: ResmanProspect; person: ResmanPerson } | null> {
  if (contact.phone !== null) {
    const found = pickGuestCard(await client.searchProspects({ Phone: contact.phone }, { retry: false }), messageId, (p) => matchesPhone(p, contact.phone));
    if (found !== null) return found;
  }
  if (contact.email !== null) {
    const found = pickGuestCard(await client.searchProspects({ Email: contact.email }, { retry: false }), messageId, (p) => matchesEmail(p, contact.email));
    if (found !== null) return found;
  }
  if (contact.phone === null && contact.email === null && mayExist && contact.lastName !== null) {
    const byName = await client.searchProspects({ FirstName: contact.firstName, LastName: contact.lastName }, { retry: false });
    return pickGuestCard(byName.filter((p) => carriesMessage(p, messageId)), messageId, () => true);
  }
  return null;
}
