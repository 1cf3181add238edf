// Use case: a customer's message, verified as the provider's, enters DomIQ: stored once with its raw payload and
// announced once as channel-gateway.message.received. The one-message form of acceptInboundMessages (the webhook
// server commits messages in groups, see accept-inbound-messages.ts).
import type { UnitOfWork } from '@domiq/bus';
import { acceptInboundMessages, type AcceptedInboundMessage, type AcceptInboundMessageInput } from './accept-inbound-messages.ts';

export type { AcceptedInboundMessage, AcceptInboundMessageInput };

/** Deduplicated on (provider, provider message id): the provider gets the same answer either way and stops retrying. */
export async function acceptInboundMessage(uow: UnitOfWork, input: AcceptInboundMessageInput): Promise<AcceptedInboundMessage> {
  const [accepted] = await acceptInboundMessages(uow, [input]);
  return accepted!;
}
