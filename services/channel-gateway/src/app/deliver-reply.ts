// One delivery attempt of a claimed reply (queue/outbound-delivery.runner.ts claims them): reconcile an attempt whose
// outcome is unknown, send through the channel's provider, and record the outcome with its delivery update event in
// one transaction. No transaction is held across the provider's call: the claim committed before it.
import { inTransaction, type EventActor, type UnitOfWork } from '@domiq/bus';
import { lockAllForTransaction, query, type MikroORM } from '@domiq/db';
import type { Logger } from '@domiq/logging';
import { retryDelayMs, type BackoffPolicy } from '@domiq/outbound';
import { events } from '@domiq/proto/events';
import type { ChannelDirectory } from '../db/channel-directory.ts';
import { recordAttempt, takeWaitingReceipts, type AttemptRecord, type ClaimedReply, type StoredReceipt } from '../db/outbound.repository.ts';
import { ProviderDeliveryError, isProviderId, storedProvider, type DeliveryStatus, type OutboundMessage, type ProviderAdapter, type ProviderRegistry } from '../providers/provider.ts';

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
  /** The provider request timeout: after a lost answer, the next look waits at least this long. */
  timeoutMs: number;
  logger: Logger;
}

/** What the gateway itself decided, as error codes (the provider's own codes are numbers). */
export const GATEWAY_ERRORS = {
  noChannel: 'domiq.no_channel',
  noProvider: 'domiq.no_provider',
  retriesExhausted: 'domiq.retries_exhausted',
  outcomeUnknown: 'domiq.outcome_unknown',
} as const;

/** The outcome of one attempt, for the runner's log and metrics. */
export type AttemptOutcome = 'accepted' | 'reconciled' | 'retry' | 'failed' | 'taken_over';

interface Reply {
  accountId: string;
  conversationId: string;
  messageId: string;
  channelId: string;
}

/** The lock a receipt and its reply's record share (one per provider message). */
export const receiptLockKey = (provider: string, providerMessageId: string) => `delivery-receipt|${provider}|${providerMessageId}`;

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
  // A row past its attempts whose outcome the earlier attempts could not settle (our own failures: a database error
  // while recording, an unreadable credential): no more sends, one last look, then it fails.
  const exhausted = claim.attempts > deps.maxAttempts;
  let adapter: ProviderAdapter;
  let credentials: ReturnType<ProviderAdapter['parseCredentials']>;
  let outbound: OutboundMessage;
  try {
    const resolved = await deps.channels.byId(claim.accountId, claim.channelId);
    if (!resolved || resolved.channel.status === 'inactive') {
      return fail(deps, claim, null, GATEWAY_ERRORS.noChannel, 'the channel the customer wrote to no longer exists or is inactive');
    }
    const provider = resolved.credentials ? storedProvider(resolved.credentials) : undefined;
    if (!provider || !isProviderId(deps.providers, provider)) {
      return fail(deps, claim, null, GATEWAY_ERRORS.noProvider, `no provider can send on this ${resolved.channel.type} channel (it has no credentials)`);
    }
    adapter = deps.providers[provider];
    credentials = adapter.parseCredentials(resolved.credentials!);
    const { channel } = resolved;
    if (!channel.address) return fail(deps, claim, adapter.id, GATEWAY_ERRORS.noChannel, 'the channel has no address to send from');
    outbound = {
      from: channel.address, to: claim.toAddress, body: claim.body,
      statusCallbackUrl: `${deps.publicBaseUrl.replace(/\/+$/, '')}/webhooks/${adapter.id}/${encodeURIComponent(channel.channelKey)}/status`,
    };
  } catch (err) {
    // Credentials that cannot be read (corrupt, a key since removed): retrying cannot help.
    deps.logger.error({ err: String(err), message_id: claim.messageId }, 'reply not delivered: the channel\'s credentials cannot be read');
    return fail(deps, claim, null, GATEWAY_ERRORS.noProvider, 'the channel\'s credentials cannot be read');
  }
  // Whether an earlier attempt may have reached the customer and is not settled yet (a look-up settles it).
  let priorUnknown = claim.outcomeUnknown;
  try {
    if (claim.outcomeUnknown) {
      // An earlier attempt may have gone through: sending before looking could reach the customer twice. A message
      // another reply already owns (the same words to the same customer) is not this one.
      const found = (await adapter.findSent(credentials, outbound, claim.createdAt));
      const owned = await providerIdsTaken(deps, claim.accountId, adapter.id, found.map((f) => f.providerMessageId));
      const mine = found.find((f) => !owned.has(f.providerMessageId));
      if (mine) return accept(deps, claim, adapter, outbound.from, mine.providerMessageId, mine.status, mine.providerStatus, 'reconciled');
      priorUnknown = false;
    }
    if (exhausted) {
      return fail(deps, claim, adapter.id, GATEWAY_ERRORS.retriesExhausted, `gave up after ${claim.attempts - 1} attempts`);
    }
    const { providerMessageId } = await adapter.deliver(credentials, outbound);
    return accept(deps, claim, adapter, outbound.from, providerMessageId, 'queued', 'queued', 'accepted');
  } catch (err) {
    if (!(err instanceof ProviderDeliveryError)) throw err;
    const code = err.code ?? (err.status ? `http_${err.status}` : 'no_answer');
    const reason = err.code ? `${adapter.errorReason(err.code) ?? err.message}` : err.message;
    // The reconciliation itself failed, or the send got no answer: the customer may have the message.
    const unknown = err.outcomeUnknown || priorUnknown;
    if (!err.retryable && !unknown) return fail(deps, claim, adapter.id, code, reason);
    if (claim.attempts >= deps.maxAttempts || exhausted) {
      // Never reported as plainly failed when it may have arrived: the agent would send it again.
      if (unknown) return fail(deps, claim, adapter.id, GATEWAY_ERRORS.outcomeUnknown, `may have reached the customer (no answer from the provider after ${claim.attempts} attempts; last: ${reason}): not sent again`);
      return fail(deps, claim, adapter.id, GATEWAY_ERRORS.retriesExhausted, `gave up after ${claim.attempts} attempts; last: ${reason}`);
    }
    // After a lost answer the provider may still be working on the request: look again only once that had time.
    const wait = Math.max(retryDelayMs(claim.attempts, deps.backoff), unknown ? deps.timeoutMs : 0);
    const nextAttemptAt = new Date(Date.now() + wait);
    const ok = await inTransaction(deps.orm, GATEWAY, (uow) => recordAttempt(uow.em, claim, { state: 'queued', nextAttemptAt, outcomeUnknown: unknown, errorCode: code, errorMessage: reason }));
    deps.logger.warn({ message_id: claim.messageId, attempt: claim.attempts, error_code: code, reason, outcome_unknown: unknown, next_attempt_at: nextAttemptAt }, 'reply not delivered, will retry');
    return ok ? 'retry' : 'taken_over';
  }
}

/** Which of these provider message ids another reply already has. */
async function providerIdsTaken(deps: DeliveryDeps, accountId: string, provider: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await query<{ provider_message_id: string }>(deps.orm.em.fork({ clear: true }),
    `select provider_message_id from "channel_gateway".outbound_messages
      where account_id = ? and provider = ? and provider_message_id in (select jsonb_array_elements_text(?::jsonb))`,
    [accountId, provider, JSON.stringify(ids)]);
  return new Set(rows.map((r) => r.provider_message_id));
}

/** Records acceptance and emits `queued` (or what reconciliation found), then any receipts that came first. */
async function accept(
  deps: DeliveryDeps, claim: ClaimedReply, adapter: ProviderAdapter, fromAddress: string, providerMessageId: string, status: DeliveryStatus,
  providerStatus: string, outcome: 'accepted' | 'reconciled',
): Promise<AttemptOutcome> {
  const record: AttemptRecord = { state: 'accepted', provider: adapter.id, providerMessageId, fromAddress, deliveryStatus: status };
  const ok = await inTransaction(deps.orm, GATEWAY, async (uow) => {
    // The receipts' lock first: a status webhook storing a receipt for this message meanwhile commits before or after
    // us, never unseen by both (app/record-receipts.ts takes the same lock).
    await lockAllForTransaction(uow.em, [receiptLockKey(adapter.id, providerMessageId)]);
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
