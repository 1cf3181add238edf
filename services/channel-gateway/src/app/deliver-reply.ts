// One delivery attempt of a claimed reply (queue/outbound-delivery.runner.ts claims them): reconcile an attempt whose
// outcome is unknown, send through the channel's provider, and record the outcome with its delivery update event in
// one transaction. No transaction is held across the provider's call: the claim committed before it.
import { inTransaction, type EventActor, type UnitOfWork } from '@domiq/bus';
import type { MikroORM } from '@domiq/db';
import type { Logger } from '@domiq/logging';
import { retryDelayMs, type BackoffPolicy } from '@domiq/outbound';
import { events } from '@domiq/proto/events';
import type { ChannelDirectory } from '../db/channel-directory.ts';
import { recordAttempt, takeWaitingReceipts, type AttemptRecord, type ClaimedReply, type StoredReceipt } from '../db/outbound.repository.ts';
import { ProviderDeliveryError, isProviderId, storedProvider, type DeliveryStatus, type ProviderAdapter, type ProviderRegistry } from '../providers/provider.ts';

// Deliveries are the system's doing (the agent's reply is audited in conversations).
const GATEWAY: EventActor = { actorType: 'system', actorId: null };

export interface DeliveryDeps {
  orm: MikroORM;
  channels: ChannelDirectory;
  providers: ProviderRegistry;
  /** Scheme, host and prefix providers post receipts to (`<base>/webhooks/<provider>/<key>/status`). */
  publicBaseUrl: string;
  /** Attempts before a reply is given up (failed with the last reason). */
  maxAttempts: number;
  backoff: BackoffPolicy;
  logger: Logger;
}

/** What the gateway itself decided, as error codes (the provider's own codes are numbers). */
export const GATEWAY_ERRORS = {
  noChannel: 'domiq.no_channel',
  noProvider: 'domiq.no_provider',
  retriesExhausted: 'domiq.retries_exhausted',
} as const;

/** The outcome of one attempt, for the runner's log and metrics. */
export type AttemptOutcome = 'accepted' | 'reconciled' | 'retry' | 'failed' | 'taken_over';

interface Reply {
  accountId: string;
  conversationId: string;
  messageId: string;
  channelId: string;
}

/** Emits one delivery update of a reply. */
export function emitDeliveryUpdate(uow: UnitOfWork, reply: Reply, update: {
  provider: string; providerMessageId: string; status: DeliveryStatus | string; providerStatus: string; errorCode: string; errorMessage: string; occurredAt: Date;
}): void {
  uow.emit(events.gatewayMessageDeliveryUpdated, {
    accountId: reply.accountId, conversationId: reply.conversationId, messageId: reply.messageId, channelId: reply.channelId,
    provider: update.provider, providerMessageId: update.providerMessageId, status: update.status, providerStatus: update.providerStatus,
    errorCode: update.errorCode, errorMessage: update.errorMessage, occurredAt: update.occurredAt.toISOString(),
  }, { entityId: reply.messageId, accountId: reply.accountId, conversationId: reply.conversationId });
}

/** A receipt's update: the provider's code with its meaning, when it is a failure. */
export function emitReceipt(uow: UnitOfWork, reply: Reply, adapter: ProviderAdapter, providerMessageId: string, receipt: Pick<StoredReceipt, 'status' | 'providerStatus' | 'errorCode' | 'receivedAt'>): void {
  emitDeliveryUpdate(uow, reply, {
    provider: adapter.id, providerMessageId, status: receipt.status, providerStatus: receipt.providerStatus, errorCode: receipt.errorCode ?? '',
    errorMessage: receipt.errorCode ? adapter.errorReason(receipt.errorCode) ?? '' : '', occurredAt: receipt.receivedAt,
  });
}

export async function deliverReply(deps: DeliveryDeps, claim: ClaimedReply): Promise<AttemptOutcome> {
  const resolved = await deps.channels.byId(claim.accountId, claim.channelId);
  const provider = resolved?.credentials ? storedProvider(resolved.credentials) : undefined;
  if (!resolved || resolved.channel.status === 'inactive') {
    return fail(deps, claim, null, GATEWAY_ERRORS.noChannel, 'the channel the customer wrote to no longer exists or is inactive');
  }
  if (!provider || !isProviderId(deps.providers, provider)) {
    return fail(deps, claim, null, GATEWAY_ERRORS.noProvider, `no provider can send on this ${resolved.channel.type} channel (it has no credentials)`);
  }
  const adapter: ProviderAdapter = deps.providers[provider];
  const credentials = adapter.parseCredentials(resolved.credentials!);
  const { channel } = resolved;
  if (!channel.address) return fail(deps, claim, adapter.id, GATEWAY_ERRORS.noChannel, 'the channel has no address to send from');
  const outbound = {
    from: channel.address, to: claim.toAddress, body: claim.body,
    statusCallbackUrl: `${deps.publicBaseUrl.replace(/\/+$/, '')}/webhooks/${adapter.id}/${encodeURIComponent(channel.channelKey)}/status`,
  };
  try {
    if (claim.outcomeUnknown) {
      // An earlier attempt may have gone through: sending before looking could reach the customer twice.
      const found = await adapter.findSent(credentials, outbound, claim.createdAt);
      if (found) {
        return accept(deps, claim, adapter, outbound.from, found.providerMessageId, found.status, found.providerStatus, 'reconciled');
      }
    }
    const { providerMessageId } = await adapter.deliver(credentials, outbound);
    return accept(deps, claim, adapter, outbound.from, providerMessageId, 'queued', 'queued', 'accepted');
  } catch (err) {
    if (!(err instanceof ProviderDeliveryError)) throw err;
    const code = err.code ?? (err.status ? `http_${err.status}` : 'no_answer');
    const reason = err.code ? `${adapter.errorReason(err.code) ?? err.message}` : err.message;
    if (!err.retryable) return fail(deps, claim, adapter.id, code, reason);
    // The reconciliation itself failed: this attempt sent nothing, the earlier one stays unknown.
    const unknown = err.outcomeUnknown || claim.outcomeUnknown;
    if (claim.attempts >= deps.maxAttempts) {
      return fail(deps, claim, adapter.id, GATEWAY_ERRORS.retriesExhausted, `gave up after ${claim.attempts} attempts; last: ${reason}`);
    }
    const nextAttemptAt = new Date(Date.now() + retryDelayMs(claim.attempts, deps.backoff));
    const ok = await inTransaction(deps.orm, GATEWAY, (uow) => recordAttempt(uow.em, claim, { state: 'queued', nextAttemptAt, outcomeUnknown: unknown, errorCode: code, errorMessage: reason }));
    deps.logger.warn({ message_id: claim.messageId, attempt: claim.attempts, error_code: code, reason, outcome_unknown: unknown, next_attempt_at: nextAttemptAt }, 'reply not delivered, will retry');
    return ok ? 'retry' : 'taken_over';
  }
}

/** Records acceptance and emits `queued` (or what reconciliation found), then any receipts that came first. */
async function accept(
  deps: DeliveryDeps, claim: ClaimedReply, adapter: ProviderAdapter, fromAddress: string, providerMessageId: string, status: DeliveryStatus,
  providerStatus: string, outcome: 'accepted' | 'reconciled',
): Promise<AttemptOutcome> {
  const record: AttemptRecord = { state: 'accepted', provider: adapter.id, providerMessageId, fromAddress, deliveryStatus: status };
  const ok = await inTransaction(deps.orm, GATEWAY, async (uow) => {
    if (!(await recordAttempt(uow.em, claim, record))) return false;
    emitDeliveryUpdate(uow, claim, { provider: adapter.id, providerMessageId, status, providerStatus, errorCode: '', errorMessage: '', occurredAt: new Date() });
    for (const receipt of await takeWaitingReceipts(uow.em, claim.accountId, adapter.id, providerMessageId)) emitReceipt(uow, claim, adapter, providerMessageId, receipt);
    return true;
  });
  if (ok) deps.logger.info({ message_id: claim.messageId, provider: adapter.id, provider_message_id: providerMessageId, attempt: claim.attempts, outcome }, 'reply handed to the provider');
  return ok ? outcome : 'taken_over';
}

async function fail(deps: DeliveryDeps, claim: ClaimedReply, provider: string | null, errorCode: string, errorMessage: string): Promise<AttemptOutcome> {
  const ok = await inTransaction(deps.orm, GATEWAY, async (uow) => {
    if (!(await recordAttempt(uow.em, claim, { state: 'failed', provider, errorCode, errorMessage }))) return false;
    emitDeliveryUpdate(uow, claim, { provider: provider ?? '', providerMessageId: '', status: 'failed', providerStatus: '', errorCode, errorMessage, occurredAt: new Date() });
    return true;
  });
  if (ok) deps.logger.warn({ message_id: claim.messageId, attempt: claim.attempts, error_code: errorCode, reason: errorMessage }, 'reply failed');
  return ok ? 'failed' : 'taken_over';
}
