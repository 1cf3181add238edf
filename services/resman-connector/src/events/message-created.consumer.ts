// conversations.message.created -> the customer's ResMan guest card gets the message as an event.
// ResMan is called in prepare (no database transaction held across it); the pending communication row is
// committed before the call so a crash between ResMan's answer and our commit is detected on redelivery.
// Per customer and property, "read the mapping, find or create the guest card, record the mapping" runs under
// a lock that holds across replicas (CustomerLocks: a PostgreSQL advisory lock), and the mapping is written
// before the lock is let go, so the next holder, on whichever replica, updates that card instead of creating one.
import { defineHandler, eventUuid, PoisonMessageError } from '@domiq/bus';
import type { MikroORM } from '@domiq/db';
import { isUuid, status, type PromiseClient } from '@domiq/grpc';
import type { Logger } from '@domiq/logging';
import { events } from '@domiq/proto/events';
import type { MessageCreated } from '@domiq/proto/conversations/events';
import type { IdentityServiceClient } from '@domiq/proto/identity';
import type { SecretBox } from '@domiq/secrets';
import { communicationType, inboundEventType } from '../domain/communication.ts';
import { redactSensitive } from '../domain/redaction.ts';
import { personContact } from '../domain/contact.ts';
import { claimCommunication, findActiveIntegration, findMapping, recordProspectMapping, recordSyncFailure, recordSyncSuccess, type SyncSuccess } from '../db/lead-sync.repository.ts';
import type { CustomerLocks } from '../db/customer-lock.ts';
import { openCredentials } from '../resman/credentials.ts';
import type { ResmanConnections } from '../resman/resman.client.ts';
import { ResmanAuthError, ResmanError } from '../resman/resman.errors.ts';
import { logInboundMessage, type InboundSyncOutcome } from '../sync/inbound-message.sync.ts';

export interface MessageCreatedDeps {
  orm: MikroORM;
  identity: PromiseClient<IdentityServiceClient>;
  resman: ResmanConnections;
  box: SecretBox;
  logger: Logger;
  /** One sync at a time per customer and property, across replicas. */
  locks: CustomerLocks;
}

type Prepared = { kind: 'skip'; reason: string } | ({ kind: 'synced' } & SyncSuccess);

const skip = (reason: string): Prepared => ({ kind: 'skip', reason });

export function messageCreatedHandler(deps: MessageCreatedDeps) {
  return defineHandler<MessageCreated, Prepared>({
    durable: 'resman-connector-message-created',
    contract: events.messageCreated,

    async prepare({ payload: m, logger }) {
      if (m.direction !== 'inbound' || m.senderType !== 'customer') return skip('not an inbound customer message');
      if (!m.propertyId) return skip('message has no property');
      for (const [field, value] of [['account_id', m.accountId], ['property_id', m.propertyId], ['customer_id', m.customerId], ['message_id', m.messageId]] as const) {
        eventUuid(value, field);
      }
      const em = deps.orm.em.fork({ clear: true });
      const integration = await findActiveIntegration(em, m.accountId, m.propertyId);
      if (!integration) return skip('no active ResMan integration for the property');

      let customer;
      try {
        customer = (await deps.identity.getCustomer({ accountId: m.accountId, customerId: m.customerId })).customer;
      } catch (err) {
        if ((err as { code?: number }).code === status.NOT_FOUND) throw new PoisonMessageError(`customer ${m.customerId} not found in identity`);
        throw err;
      }
      if (!customer) throw new PoisonMessageError(`customer ${m.customerId} not found in identity`);

      // One push at a time per customer and property, on every replica: two first messages racing (in one
      // process or in two) would otherwise both find no card and create two.
      const key = `${m.accountId}|${m.propertyId}|${m.customerId}`;
      return deps.locks.run(key, async (lease) => {
        const started = performance.now();
        const mapping = await findMapping(em, m);
        const eventType = inboundEventType(m.channel);
        const conversationId = isUuid(m.conversationId) ? m.conversationId : null;
        const createdAt = Number.isNaN(Date.parse(m.createdAt)) ? new Date() : new Date(m.createdAt);
        const claim = await claimCommunication(em, {
          accountId: m.accountId, propertyId: m.propertyId, customerId: m.customerId, conversationId, messageId: m.messageId,
          communicationType: communicationType(m.channel), content: redactSensitive(m.content), timestamp: createdAt,
          syncType: mapping ? 'update' : 'create', eventType,
        });
        if (claim.state === 'done') return skip('message already logged in ResMan');

        const client = deps.resman.client({
          baseUrl: integration.baseUrl,
          accountId: integration.resmanAccountId,
          propertyId: integration.resmanPropertyId,
          credentials: openCredentials(deps.box, integration.apiCredentials),
        });
        const common = {
          communicationId: claim.id, integrationId: integration.id, accountId: m.accountId, propertyId: m.propertyId,
          customerId: m.customerId, conversationId, messageId: m.messageId,
        };
        let outcome: InboundSyncOutcome;
        try {
          outcome = await logInboundMessage(client, {
            message: { messageId: m.messageId, channel: m.channel, content: m.content, createdAt },
            contact: personContact(customer),
            mapping: mapping ? { prospectId: mapping.resmanLeadId, personId: mapping.resmanPersonId ?? null } : null,
            mayAlreadyExist: !claim.firstAttempt,
            agentId: integration.defaultAgentId,
            prospectSourceId: integration.prospectSourceId,
          });
        } catch (err) {
          const terminal = err instanceof ResmanError && !err.retryable;
          await recordSyncFailure(em, {
            ...common, prospectId: mapping?.resmanLeadId ?? null, syncType: mapping ? 'update' : 'create', terminal,
            auth: err instanceof ResmanAuthError, errorCode: err instanceof ResmanError ? err.code : 'internal',
            errorMessage: String((err as Error).message ?? err), processingTimeMs: Math.round(performance.now() - started),
          }).catch((recordErr: unknown) => logger.error({ err: String(recordErr) }, 'could not record the failed ResMan sync'));
          if (terminal) throw new PoisonMessageError(`ResMan refused the sync: ${(err as Error).message}`);
          throw err;
        }
        // Still under the lock: the customer's card is recorded now, not when handle() commits, which happens
        // after the lock is released. Lost lock: fail (redelivered; the marker makes the retry add nothing).
        if (mapping?.resmanLeadId !== outcome.prospectId) {
          lease.assertHeld();
          await recordProspectMapping(em, { accountId: m.accountId, propertyId: m.propertyId, customerId: m.customerId, conversationId, prospectId: outcome.prospectId, personId: outcome.personId });
        }
        return {
          kind: 'synced', ...common, prospectId: outcome.prospectId, personId: outcome.personId, eventType: outcome.eventType,
          content: outcome.comments, syncType: outcome.created ? 'create' : 'update', created: outcome.created, attached: outcome.attached,
          alreadyInResman: outcome.alreadyInResman, processingTimeMs: Math.round(performance.now() - started),
        } satisfies Prepared;
      });
    },

    async handle(ctx) {
      const p = ctx.prepared;
      if (p.kind === 'skip') {
        ctx.logger.debug({ reason: p.reason }, 'message not synced to ResMan');
        return;
      }
      const { mappingId } = await recordSyncSuccess(ctx.em, p);
      ctx.emit(events.leadSynced, {
        accountId: p.accountId, propertyId: p.propertyId, customerId: p.customerId, conversationId: p.conversationId ?? '',
        prospectId: p.prospectId, personId: p.personId, created: p.created,
      }, { entityId: mappingId, accountId: p.accountId, customerId: p.customerId, conversationId: p.conversationId });
    },
  });
}
