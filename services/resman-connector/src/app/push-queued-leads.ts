// Use case (the lead-sync queue worker's): one push of one customer's due messages at one property to their ResMan
// guest card. Call it holding the lock of the group's ResMan account (src/queue/lead-sync-queue.runner.ts), so at most
// one request is in flight per ResMan account on every replica, and so nobody else works on the group's rows.
//
// The deliberate exception to "a use case never opens a transaction" (docs/request-flow.md; it was pushInboundMessage
// before the queue): it opens its own short ones around the network calls rather than running in one (a transaction
// held open across identity and ResMan calls would pin a pooled connection idle for seconds): the
// claim (one statement), then either the success (rows completed, communications logged, mapping, contact, health,
// resman.lead.synced per message) or the failure (rows rescheduled or failed, the attempt logged) in one transaction.
// Each record is conditioned on the rows still being this worker's, so a worker that lost its rows records nothing.
// A crash between ResMan's answer and that commit leaves the rows 'processing': once their lease (renewed here while
// the push runs) has run out, the next holder of the account's lock takes them back, and the `[domiq:<message id>]`
// markers on the card keep the retry from posting any event twice.
import { inTransaction, type UnitOfWork } from '@domiq/bus';
import type { MikroORM } from '@domiq/db';
import { status, type PromiseClient } from '@domiq/grpc';
import type { Logger } from '@domiq/logging';
import { events } from '@domiq/proto/events';
import type { IdentityServiceClient } from '@domiq/proto/identity';
import { CHANNELS, type Channel } from '@domiq/proto/vocabulary';
import type { SecretBox } from '@domiq/secrets';
import { ResmanIntegration, type IntegrationRow } from '../db/integration.entities.ts';
import { LeadSyncConflict, LeadSyncLog } from '../db/lead-sync.entities.ts';
import { claimGroup, completeRows, renewLease, settleRows, type ClaimedRow, type RowOutcome } from '../db/lead-sync-queue.repository.ts';
import {
  findCommunications, findIntegration, findMapping, findOtherCustomersOfProspect, recordContactSync, recordFailedCommunications,
  recordLoggedCommunications, recordSyncedMapping,
} from '../db/lead-sync.repository.ts';
import { personContact } from '../domain/contact.ts';
import { afterFailedAttempt, mayAlreadyBeInResman, resmanAccountKey, type AttemptFailure, type RetryPolicy } from '../domain/lead-sync-queue.ts';
import { afterFailedPush, afterSuccessfulPush, pushesToResman, successNeedsRecording } from '../domain/resman-integration.ts';
import { openCredentials } from '../resman/credentials.ts';
import type { ResmanConnections } from '../resman/resman.client.ts';
import { ResmanError } from '../resman/resman.errors.ts';
import { logOnGuestCard, type GuestCardMessage, type GuestCardOutcome } from './log-on-guest-card.ts';

export interface QueueWorkerDeps {
  orm: MikroORM;
  identity: PromiseClient<IdentityServiceClient>;
  resman: ResmanConnections;
  box: SecretBox;
  /** This worker's name in lead_sync_queue.locked_by (unique per process). */
  worker: string;
  retry: Pick<RetryPolicy, 'initialDelayMs' | 'maxDelayMs'>;
  /** Most messages one push carries. */
  maxMessagesPerPush: number;
  /**
   * How long a claim holds without being renewed (renewed every third of it while the push runs): a dead worker's rows
   * are taken back after it. Longer than a ResMan request can take, so what that worker still had in flight is done.
   */
  leaseMs: number;
}

export interface QueuedGroup {
  accountId: string;
  propertyId: string;
  customerId: string;
}

export type PushOutcome =
  /** Nothing due (another worker got there first). */
  | 'idle'
  /** The property's integration now points at another ResMan account than the lock held: left for the next round. */
  | 'moved'
  | 'pushed'
  /** Failed; every row is pending again with a later next_retry_at, or failed for good. */
  | 'failed'
  /** The property no longer pushes (integration paused, disabled or gone): the rows are cancelled. */
  | 'cancelled'
  /** The rows were taken over by another worker before this one recorded its result: nothing recorded here. */
  | 'taken_over';

export interface PushSummary {
  outcome: PushOutcome;
  messages: number;
  failure?: AttemptFailure;
}

/** The customer does not exist in identity: no push can ever succeed. */
class CustomerNotFoundError extends Error {
  override name = 'CustomerNotFoundError';
}

/** Recording found fewer of the rows this worker's than it claimed (its lock was lost and another took them). */
class RowsTakenOverError extends Error {
  override name = 'RowsTakenOverError';
}

/**
 * One push for the group (its due rows in the order the customer sent them, at most `maxMessagesPerPush`).
 * `accountKey` is the `resmanAccountKey` of the account whose lock the caller holds.
 */
export async function pushQueuedGroup(deps: QueueWorkerDeps, group: QueuedGroup, accountKey: string, logger: Logger): Promise<PushSummary> {
  // Outside any transaction: each statement on it commits at once.
  const em = deps.orm.em.fork({ clear: true });
  const integration = await findIntegration(em, group.accountId, group.propertyId);
  if (integration && resmanAccountKey(integration) !== accountKey) return { outcome: 'moved', messages: 0 };
  const rows = await claimGroup(em, group, deps.worker, deps.maxMessagesPerPush, deps.leaseMs);
  if (rows.length === 0) return { outcome: 'idle', messages: 0 };
  const log = logger.child({ account_id: group.accountId, property_id: group.propertyId, customer_id: group.customerId, messages: rows.length });
  const ids = rows.map((r) => r.id);
  const renew = setInterval(() => {
    renewLease(deps.orm.em.fork({ clear: true }), ids, deps.worker).catch((err: unknown) => log.warn({ err: String(err) }, 'could not renew the lease of queued ResMan pushes'));
  }, Math.max(1000, Math.floor(deps.leaseMs / 3)));
  renew.unref();
  try {
    return await pushClaimed(deps, group, integration, rows, log);
  } finally {
    clearInterval(renew);
  }
}

async function pushClaimed(deps: QueueWorkerDeps, group: QueuedGroup, integration: IntegrationRow | null, rows: ClaimedRow[], log: Logger): Promise<PushSummary> {
  const em = deps.orm.em.fork({ clear: true });

  if (!integration || !pushesToResman(integration)) {
    const reason = integration ? `the property's ResMan integration no longer pushes (${integration.syncEnabled ? integration.syncStatus : 'disabled'})` : 'the property has no ResMan integration';
    await settle(deps, group, rows, rows.map((r) => ({ id: r.id, status: 'cancelled', retryCount: r.retryCount, nextRetryAt: null, errorMessage: reason })), null);
    log.info({ reason }, 'queued ResMan pushes cancelled');
    return { outcome: 'cancelled', messages: rows.length };
  }

  const comms = await findCommunications(em, group.accountId, rows.map((r) => r.messageId));
  const orphans = rows.filter((r) => { const c = comms.get(r.messageId); return !c || c.syncStatus === 'success'; });
  if (orphans.length > 0) {
    // Cannot happen through the consumer (a row and its communication commit together, and are logged together).
    await settle(deps, group, orphans, orphans.map((r) => ({ id: r.id, status: 'cancelled', retryCount: r.retryCount, nextRetryAt: null, errorMessage: 'its communication row is missing or logged already' })), null);
  }
  const work = rows.filter((r) => !orphans.includes(r));
  if (work.length === 0) return { outcome: 'cancelled', messages: rows.length };

  const started = performance.now();
  let outcome: GuestCardOutcome;
  try {
    outcome = await pushToResman(deps, group, integration, work, comms);
  } catch (err) {
    const failure = classify(err);
    const processingTimeMs = Math.round(performance.now() - started);
    const now = new Date();
    const outcomes = work.map((r): RowOutcome => {
      const next = afterFailedAttempt(r, failure, now, deps.retry);
      return { id: r.id, status: next.status, retryCount: next.retryCount, nextRetryAt: next.status === 'pending' ? next.nextRetryAt : null, errorMessage: next.errorMessage };
    });
    try {
      await settle(deps, group, work, outcomes, { failure, integrationId: integration.id, processingTimeMs, resmanFailure: err instanceof ResmanError });
    } catch (recordErr) {
      // The rows stay 'processing': taken back (by any worker) once their lease has run out.
      log.error({ err: String(recordErr), failure: failure.reason }, 'could not record the failed ResMan push');
      return { outcome: 'failed', messages: work.length, failure };
    }
    const level = failure.kind === 'deferred' ? 'debug' : 'warn';
    log[level]({ code: failure.code, reason: failure.reason, gave_up: outcomes.filter((o) => o.status === 'failed').length }, 'ResMan push failed');
    return { outcome: 'failed', messages: work.length, failure };
  }

  const processingTimeMs = Math.round(performance.now() - started);
  try {
    await inTransaction(deps.orm, { actorType: 'system' }, (uow) => recordPush(uow, deps.worker, group, integration, work, outcome, processingTimeMs));
  } catch (err) {
    if (err instanceof RowsTakenOverError) {
      log.warn('queued ResMan push taken over by another worker before it was recorded; the other records it');
      return { outcome: 'taken_over', messages: work.length };
    }
    // ResMan has the events; the rows stay 'processing' until their lease runs out, and the next attempt finds the
    // markers on the card.
    log.error({ err: String(err) }, 'could not record the ResMan push');
    return { outcome: 'failed', messages: work.length, failure: { kind: 'transient', code: 'internal', reason: String(err) } };
  }
  log.debug({ prospect_id: outcome.prospectId, created: outcome.created, attached: outcome.attached, ms: processingTimeMs }, 'messages logged to ResMan');
  return { outcome: 'pushed', messages: work.length };
}

/** Identity, then ResMan: the customer's contact details, and the messages logged on their card. */
async function pushToResman(
  deps: QueueWorkerDeps, group: QueuedGroup, integration: IntegrationRow, rows: ClaimedRow[], comms: Awaited<ReturnType<typeof findCommunications>>,
): Promise<GuestCardOutcome> {
  let customer;
  try {
    customer = (await deps.identity.getCustomer({ accountId: group.accountId, customerId: group.customerId })).customer;
  } catch (err) {
    if ((err as { code?: number }).code === status.NOT_FOUND) throw new CustomerNotFoundError(`customer ${group.customerId} not found in identity`);
    throw err;
  }
  if (!customer) throw new CustomerNotFoundError(`customer ${group.customerId} not found in identity`);
  const mapping = await findMapping(deps.orm.em.fork({ clear: true }), group);
  const client = deps.resman.client({
    baseUrl: integration.baseUrl,
    accountId: integration.resmanAccountId,
    propertyId: integration.resmanPropertyId,
    credentials: openCredentials(deps.box, integration.apiCredentials),
  });
  const messages = rows.map((r): GuestCardMessage => {
    const comm = comms.get(r.messageId)!;
    return { messageId: r.messageId, channel: channelOf(r.data.channel), content: comm.content, createdAt: comm.timestamp ?? r.createdAt };
  });
  return logOnGuestCard(client, {
    messages,
    contact: personContact(customer),
    mapping: mapping ? { prospectId: mapping.resmanLeadId, personId: mapping.resmanPersonId ?? null } : null,
    mayAlreadyExist: mayAlreadyBeInResman(rows.map((r) => ({ retryCount: r.retryCount, wasProcessing: r.wasProcessing, seenBefore: r.data.seenBefore }))),
    agentId: integration.defaultAgentId,
    prospectSourceId: integration.prospectSourceId,
  });
}

const channelOf = (value: string): Channel => ((CHANNELS as readonly string[]).includes(value) ? (value as Channel) : 'api');

function classify(err: unknown): AttemptFailure {
  const reason = String((err as Error)?.message ?? err);
  if (err instanceof CustomerNotFoundError) return { kind: 'permanent', code: 'customer_not_found', reason };
  if (err instanceof ResmanError) {
    if (!err.retryable) return { kind: 'permanent', code: err.code, reason: `ResMan refused the sync: ${reason}` };
    return { kind: err.code === 'circuit_open' ? 'deferred' : 'transient', code: err.code, reason };
  }
  if (typeof (err as { code?: unknown }).code === 'number') return { kind: 'transient', code: 'identity', reason: `identity: ${reason}` };
  return { kind: 'transient', code: 'internal', reason };
}

interface AttemptRecord {
  failure: AttemptFailure;
  integrationId: string;
  processingTimeMs: number;
  /** ResMan itself failed (the integration's health follows it). */
  resmanFailure: boolean;
}

/**
 * The rows' outcomes (`outcomes[n]` is `rows[n]`'s) and their communications ('pending' again or 'failed'), and for a
 * real attempt its lead_sync_log rows and the integration's health, in one transaction.
 */
async function settle(deps: QueueWorkerDeps, group: QueuedGroup, rows: ClaimedRow[], outcomes: RowOutcome[], attempt: AttemptRecord | null): Promise<void> {
  // No events: the actor is never written.
  await inTransaction(deps.orm, { actorType: 'system' }, async ({ em }) => {
    if ((await settleRows(em, outcomes, deps.worker)) !== outcomes.length) throw new RowsTakenOverError('queue rows taken over by another worker');
    await recordFailedCommunications(em, group.accountId, outcomes.map((o, n) => ({
      messageId: rows[n]!.messageId, status: o.status === 'pending' ? 'pending' as const : 'failed' as const, error: o.errorMessage,
    })));
    if (!attempt || attempt.failure.kind === 'deferred') return;
    for (const [n, o] of outcomes.entries()) {
      const row = rows[n]!;
      em.create(LeadSyncLog, {
        accountId: group.accountId, propertyId: group.propertyId, customerId: group.customerId, conversationId: row.conversationId, messageId: row.messageId,
        syncDirection: 'to_resman', syncStatus: o.status === 'pending' ? 'retry' : 'failed', syncType: 'update',
        syncData: { messageId: row.messageId, eventType: row.data.eventType, messages: rows.length },
        errorMessage: o.errorMessage, errorCode: attempt.failure.code.slice(0, 100), retryCount: row.retryCount, processingTimeMs: attempt.processingTimeMs,
      });
    }
    if (attempt.resmanFailure) {
      const integration = await em.findOne(ResmanIntegration, { id: attempt.integrationId, accountId: group.accountId });
      if (integration) Object.assign(integration, afterFailedPush(integration, { auth: attempt.failure.code === 'auth' }, new Date()));
    }
  });
}

/**
 * The push's transaction: the rows completed, the communications logged, the mapping and contact completed, a
 * possible duplicate lead kept for review, the integration's health restored, and resman.lead.synced emitted per message.
 */
async function recordPush(uow: UnitOfWork, worker: string, group: QueuedGroup, pushedWith: IntegrationRow, rows: ClaimedRow[], outcome: GuestCardOutcome, processingTimeMs: number): Promise<void> {
  const { em } = uow;
  const { accountId, propertyId, customerId } = group;
  const { prospectId, personId } = outcome;
  if ((await completeRows(em, rows.map((r) => r.id), worker, prospectId)) !== rows.length) throw new RowsTakenOverError('queue rows taken over by another worker');
  const logged = outcome.messages.map((m) => ({ ...m, syncType: m.created ? 'create' as const : 'update' as const }));
  await recordLoggedCommunications(em, accountId, prospectId, logged);
  const rowOf = new Map(rows.map((r) => [r.messageId, r]));
  for (const m of logged) {
    const row = rowOf.get(m.messageId)!;
    em.create(LeadSyncLog, {
      accountId, propertyId, customerId, conversationId: row.conversationId, messageId: m.messageId,
      resmanLeadId: prospectId, syncDirection: 'to_resman', syncStatus: 'success', syncType: m.syncType,
      syncData: { messageId: m.messageId, eventType: m.eventType, created: m.created, attached: outcome.attached, alreadyInResman: m.alreadyInResman, messages: rows.length },
      responseData: { prospectId, personId },
      retryCount: row.retryCount, processingTimeMs,
    });
  }
  const conversationId = [...rows].reverse().find((r) => r.conversationId !== null)?.conversationId ?? null;
  const mapping = await recordSyncedMapping(em, { accountId, propertyId, customerId, conversationId, prospectId, personId, syncs: rows.length });
  if (!mapping) throw new Error(`lead_sync_mapping for property ${propertyId} belongs to another account`);
  await recordContactSync(em, { accountId, propertyId, customerId, personId, prospectId });
  if (outcome.attached) await recordDuplicateLeads(uow, { accountId, propertyId, customerId, conversationId, prospectId });
  // As read when the push began (pushes of one ResMan account, so of this integration, run one at a time).
  const now = new Date();
  if (successNeedsRecording(pushedWith, now)) {
    const integration = await em.findOne(ResmanIntegration, { id: pushedWith.id, accountId });
    if (integration) Object.assign(integration, afterSuccessfulPush(integration, now));
  }
  for (const m of logged) {
    const row = rowOf.get(m.messageId)!;
    uow.emit(events.leadSynced, {
      accountId, propertyId, customerId, conversationId: row.conversationId ?? '', prospectId, personId, created: m.created,
    }, { entityId: mapping.id, accountId, customerId, conversationId: row.conversationId, causationMsgId: row.data.eventId || null });
  }
}

// Another DomIQ customer of this property already maps to the prospect we attached to: identity may not
// have merged two identities of one person yet. Kept for review instead of refused.
async function recordDuplicateLeads(uow: UnitOfWork, s: { accountId: string; propertyId: string; customerId: string; conversationId: string | null; prospectId: string }): Promise<void> {
  const others = await findOtherCustomersOfProspect(uow.em, s);
  for (const other of others) {
    uow.em.create(LeadSyncConflict, {
      accountId: s.accountId, propertyId: s.propertyId, customerId: s.customerId, conversationId: s.conversationId, resmanLeadId: s.prospectId,
      conflictType: 'duplicate_lead', conflictField: 'customer_id', resmanValue: { prospectId: s.prospectId },
      domiqValue: { customerIds: [other.customerId, s.customerId] }, conflictSeverity: 'medium', resolutionStatus: 'manual_review',
    });
  }
}
