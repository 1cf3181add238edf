// conversations.message.created -> the customer's ResMan guest card gets the message as an event
// (app/log-inbound-message.ts). ResMan is called in prepare, so no database transaction is held across it.
// Per customer and property, "read the mapping, find or create the guest card, record the mapping" runs under
// a lock that holds across replicas (CustomerLocks: a PostgreSQL advisory lock), and the mapping is written
// before the lock is let go, so the next holder, on whichever replica, updates that card instead of creating one.
import { defineHandler, eventEnum, eventUuid, PoisonMessageError, readModel } from '@domiq/bus';
import type { MikroORM } from '@domiq/db';
import { isUuid, status, type PromiseClient } from '@domiq/grpc';
import type { Logger } from '@domiq/logging';
import { events } from '@domiq/proto/events';
import { channels } from '@domiq/proto/vocabulary';
import type { MessageCreated } from '@domiq/proto/conversations/events';
import type { IdentityServiceClient } from '@domiq/proto/identity';
import type { SecretBox } from '@domiq/secrets';
import { pushInboundMessage, recordLeadSync, type InboundCustomerMessage, type PushedMessage } from '../app/log-inbound-message.ts';
import type { CustomerLocks } from '../db/customer-lock.ts';
import { findIntegration } from '../db/lead-sync.repository.ts';
import { notLoggedReason } from '../domain/communication.ts';
import { personContact } from '../domain/contact.ts';
import { pushesToResman } from '../domain/resman-integration.ts';
import type { ResmanConnections } from '../resman/resman.client.ts';
import { isPermanent } from '../resman/resman.errors.ts';

export interface MessageCreatedDeps {
  orm: MikroORM;
  identity: PromiseClient<IdentityServiceClient>;
  resman: ResmanConnections;
  box: SecretBox;
  logger: Logger;
  /** One sync at a time per customer and property, across replicas. */
  locks: CustomerLocks;
}

type Prepared = { kind: 'skip'; reason: string } | ({ kind: 'synced' } & PushedMessage);

const skip = (reason: string): Prepared => ({ kind: 'skip', reason });

export function messageCreatedHandler(deps: MessageCreatedDeps) {
  return defineHandler<MessageCreated, Prepared>({
    durable: 'resman-connector-message-created',
    contract: events.messageCreated,

    async prepare({ payload: m, logger }) {
      const notLogged = notLoggedReason(m);
      if (notLogged !== null) return skip(notLogged);
      for (const [field, value] of [['account_id', m.accountId], ['property_id', m.propertyId], ['customer_id', m.customerId], ['message_id', m.messageId]] as const) {
        eventUuid(value, field);
      }
      const channel = eventEnum(channels, m.channel, 'channel');
      const integration = await findIntegration(readModel(deps.orm), m.accountId, m.propertyId);
      if (!integration || !pushesToResman(integration)) return skip('no active ResMan integration for the property');

      let customer;
      try {
        customer = (await deps.identity.getCustomer({ accountId: m.accountId, customerId: m.customerId })).customer;
      } catch (err) {
        if ((err as { code?: number }).code === status.NOT_FOUND) throw new PoisonMessageError(`customer ${m.customerId} not found in identity`);
        throw err;
      }
      if (!customer) throw new PoisonMessageError(`customer ${m.customerId} not found in identity`);

      const message: InboundCustomerMessage = {
        accountId: m.accountId, propertyId: m.propertyId, customerId: m.customerId, messageId: m.messageId, channel, content: m.content,
        conversationId: isUuid(m.conversationId) ? m.conversationId : null,
        createdAt: Number.isNaN(Date.parse(m.createdAt)) ? new Date() : new Date(m.createdAt),
      };
      const contact = personContact(customer);
      // One push at a time per customer and property, on every replica: two first messages racing (in one
      // process or in two) would otherwise both find no card and create two.
      const key = `${m.accountId}|${m.propertyId}|${m.customerId}`;
      let pushed: PushedMessage | 'already_logged';
      try {
        pushed = await deps.locks.run(key, (lease) => pushInboundMessage(deps, { message, integration, contact }, lease, logger));
      } catch (err) {
        if (isPermanent(err)) throw new PoisonMessageError(`ResMan refused the sync: ${err.message}`);
        throw err;
      }
      return pushed === 'already_logged' ? skip('message already logged in ResMan') : { kind: 'synced', ...pushed };
    },

    async handle(ctx) {
      const p = ctx.prepared;
      if (p.kind === 'skip') {
        ctx.logger.debug({ reason: p.reason }, 'message not synced to ResMan');
        return;
      }
      await recordLeadSync(ctx, p);
    },
  });
}
