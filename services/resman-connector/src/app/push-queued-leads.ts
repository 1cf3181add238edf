// Use case (the lead-sync queue worker's): one push round for one ResMan account: several customers' due messages
// (a group: one customer at one property), each group logged on its customer's guest card with its own requests, one
// group after another. Call it holding the lock of the ResMan account (src/queue/lead-sync-queue.runner.ts), so at
// most one request is in flight per ResMan account on every replica, and so nobody else works on the groups' rows.
//
// Batch-first like every consumer on the hot path: whatever the number of groups, the round reads with a fixed number
// of statements (the integrations, the claim, the communications, the mappings; one GetCustomers call to identity per
// DomIQ account) and records with one transaction for all its successes and one for all its failures. Only the ResMan
// requests are per group: a MITS document carries one customer's card, so a card ResMan refuses fails that customer
// alone.
//
// The deliberate exception to "a use case never opens a transaction" (docs/request-flow.md): it opens its own short
// ones around the network calls rather than running in one (a transaction held open across identity and ResMan calls
// would pin a pooled connection idle for seconds). Each record is conditioned on the rows still being this worker's,
// so a worker that lost its rows records nothing; when the round's record finds any group's rows taken over, each
// group is recorded alone, so only that group's record is dropped. A crash between ResMan's answer and that commit
// leaves the rows 'processing': once their lease (renewed here while the round runs) has run out, the next holder of
// the account's lock takes them back, and the `[domiq:<message id>]` markers on the card keep the retry from posting
// any event twice.
import { inTransaction, type UnitOfWork } from '@domiq/bus';
import type { EntityManager, MikroORM } from '@domiq/db';
import type { PromiseClient } from '@domiq/grpc';
import type { Logger } from '@domiq/logging';
import { events } from '@domiq/proto/events';
import type { Customer, IdentityServiceClient } from '@domiq/proto/identity';
import { CHANNELS, type Channel } from '@domiq/proto/vocabulary';
import type { SecretBox } from '@domiq/secrets';
import { ResmanIntegration } from '../db/integration.entities.ts';
import { LeadSyncConflict } from '../db/lead-sync.entities.ts';
import { claimGroups, completeRows, groupKeyOf, renewLease, settleRows, type ClaimedRow, type GroupKey, type RowOutcome } from '../db/lead-sync-queue.repository.ts';
import {
  findCommunications, findIntegrations, findMappings, findOtherCustomersOfProspect, insertSyncLogs, recordContactSyncs, recordFailedCommunications,
  recordLoggedCommunications, recordSyncedMappings, type QueuedCommunication, type QueuedIntegration, type SyncLogRow,
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
  /** Most messages one push (one customer's card) carries. */
  maxMessagesPerPush: number;
  /**
   * How long a claim holds without being renewed (renewed every third of it while the round runs): a dead worker's rows
   * are taken back after it. Longer than a ResMan request can take, so what that worker still had in flight is done.
   */
  leaseMs: number;
}

export type QueuedGroup = GroupKey;

export interface RoundSummary {
  /** Groups whose messages were logged. */
  pushed: number;
  /** Groups that failed (their rows pending again with a later next_retry_at, or failed for good). */
  failed: number;
  /** Groups whose property no longer pushes (integration paused, disabled or gone): their rows cancelled. */
  cancelled: number;
  /** Groups whose integration now points at another ResMan account than the lock held: left for a later round. */
  moved: number;
  /** Groups whose rows another worker took over before this one recorded its result: nothing recorded for them. */
  takenOver: number;
  /** Messages claimed. */
  messages: number;
  /** The failures, in group order (for the caller's logs and tests). */
  failures: AttemptFailure[];
}

/** The customer does not exist in identity: no push can ever succeed. */
class CustomerNotFoundError extends Error {
  override name = 'CustomerNotFoundError';
}

/** Recording found fewer of the rows this worker's than it claimed (its lock was lost and another took them). */
class RowsTakenOverError extends Error {
  override name = 'RowsTakenOverError';
}

/** A claimed group on its way through the round. */
interface Work {
  group: GroupKey;
  integration: QueuedIntegration;
  rows: ClaimedRow[];
}

interface Pushed extends Work {
  outcome: GuestCardOutcome;
  processingTimeMs: number;
}

interface Failed extends Work {
  failure: AttemptFailure;
  processingTimeMs: number;
  /** ResMan itself failed (the integration's health follows it). */
  resmanFailure: boolean;
}

/**
 * One round for `groups`, all of the ResMan account whose lock the caller holds (`accountKey`, its
 * `resmanAccountKey`): each group's due rows in the order the customer sent them, at most `maxMessagesPerPush`.
 */
export async function pushQueuedRound(deps: QueueWorkerDeps, groups: readonly QueuedGroup[], accountKey: string, logger: Logger): Promise<RoundSummary> {
  const summary: RoundSummary = { pushed: 0, failed: 0, cancelled: 0, moved: 0, takenOver: 0, messages: 0, failures: [] };
  // Outside any transaction: each statement on it commits at once.
  const em = deps.orm.em.fork({ clear: true });
  const integrations = new Map((await findIntegrations(em, groups)).map((i) => [`${i.accountId}|${i.propertyId}`, i]));
  const integrationOf = (g: GroupKey) => integrations.get(`${g.accountId}|${g.propertyId}`) ?? null;
  const mine = groups.filter((g) => {
    const integration = integrationOf(g);
    return !integration || resmanAccountKey(integration) === accountKey;
  });
  summary.moved = groups.length - mine.length;
  const rows = await claimGroups(em, mine, deps.worker, deps.maxMessagesPerPush, deps.leaseMs);
  if (rows.length === 0) return summary;
  summary.messages = rows.length;
  const ids = rows.map((r) => r.id);
  const renew = setInterval(() => {
    renewLease(deps.orm.em.fork({ clear: true }), ids, deps.worker).catch((err: unknown) => logger.warn({ err: String(err) }, 'could not renew the lease of queued ResMan pushes'));
  }, Math.max(1000, Math.floor(deps.leaseMs / 3)));
  renew.unref();
  try {
    await pushClaimed(deps, claimedGroups(mine, rows), integrationOf, summary, logger);
  } finally {
    clearInterval(renew);
  }
  return summary;
}

/** The claimed rows by group, in the order of `groups` (groups with nothing claimed left out). */
function claimedGroups(groups: readonly GroupKey[], rows: readonly ClaimedRow[]): Array<{ group: GroupKey; rows: ClaimedRow[] }> {
  const byGroup = new Map<string, ClaimedRow[]>();
  for (const r of rows) {
    const key = groupKeyOf(r);
    if (!byGroup.has(key)) byGroup.set(key, []);
    byGroup.get(key)!.push(r);
  }
  return groups.flatMap((group) => {
    const claimed = byGroup.get(groupKeyOf(group));
    return claimed ? [{ group, rows: claimed }] : [];
  });
}

async function pushClaimed(
  deps: QueueWorkerDeps, claimed: Array<{ group: GroupKey; rows: ClaimedRow[] }>, integrationOf: (g: GroupKey) => QueuedIntegration | null,
  summary: RoundSummary, logger: Logger,
): Promise<void> {
  const em = deps.orm.em.fork({ clear: true });
  const cancels: Array<{ group: GroupKey; rows: ClaimedRow[]; reason: string }> = [];
  const work: Work[] = [];
  for (const c of claimed) {
    const integration = integrationOf(c.group);
    if (!integration || !pushesToResman(integration)) {
      cancels.push({ ...c, reason: integration ? `the property's ResMan integration no longer pushes (${integration.syncEnabled ? integration.syncStatus : 'disabled'})` : 'the property has no ResMan integration' });
      summary.cancelled++;
    } else work.push({ ...c, integration });
  }

  const comms = await findCommunications(em, work.flatMap((w) => w.rows));
  for (const w of work) {
    const orphans = w.rows.filter((r) => { const c = comms.get(r.messageId); return !c || c.syncStatus === 'success'; });
    if (orphans.length === 0) continue;
    // Cannot happen through the consumer (a row and its communication commit together, and are logged together).
    cancels.push({ group: w.group, rows: orphans, reason: 'its communication row is missing or logged already' });
    w.rows = w.rows.filter((r) => !orphans.includes(r));
  }
  const pushing = work.filter((w) => w.rows.length > 0);
  if (cancels.length > 0) {
    await settleAll(deps, cancels.map((c) => ({ ...c, outcomes: c.rows.map((r): RowOutcome => ({ id: r.id, status: 'cancelled', retryCount: r.retryCount, nextRetryAt: null, errorMessage: c.reason })), attempt: null })));
    for (const c of cancels) logger.info({ account_id: c.group.accountId, property_id: c.group.propertyId, customer_id: c.group.customerId, reason: c.reason }, 'queued ResMan pushes cancelled');
  }
  if (pushing.length === 0) return;

  const pushed: Pushed[] = [];
  const failed: Failed[] = [];
  const started = performance.now();
  let customers: Map<string, Customer> | Error;
  let mappings: Awaited<ReturnType<typeof findMappings>>;
  try {
    [customers, mappings] = await Promise.all([getCustomers(deps, pushing.map((w) => w.group)).catch((err: unknown) => err as Error), findMappings(em, pushing.map((w) => w.group))]);
  } catch (err) {
    // The database failed before anything was sent: the rows stay 'processing' until their lease runs out.
    logger.error({ err: String(err) }, 'could not read the mappings of queued ResMan pushes');
    summary.failed += pushing.length;
    return;
  }
  // One group after another: one request in flight for the account.
  for (const w of pushing) {
    const groupStarted = performance.now();
    try {
      if (customers instanceof Error) throw customers;
      const customer = customers.get(w.group.customerId);
      if (!customer) throw new CustomerNotFoundError(`customer ${w.group.customerId} not found in identity`);
      const outcome = await pushToResman(deps, w, customer, comms, mappings.get(groupKeyOf(w.group)) ?? null);
      pushed.push({ ...w, outcome, processingTimeMs: Math.round(performance.now() - groupStarted) });
    } catch (err) {
      failed.push({ ...w, failure: classify(err), processingTimeMs: Math.round(performance.now() - groupStarted), resmanFailure: err instanceof ResmanError });
    }
  }

  // Successes first: a round that also failed leaves the integration's error count counting its failures.
  if (pushed.length > 0) await recordSuccesses(deps, pushed, summary, logger);
  if (failed.length > 0) await recordFailures(deps, failed, summary, logger);
  logger.debug({ groups: pushing.length, pushed: pushed.length, failed: failed.length, ms: Math.round(performance.now() - started) }, 'ResMan push round');
}

/** The customers of the groups, one GetCustomers call per DomIQ account (a round is almost always one account's). */
async function getCustomers(deps: QueueWorkerDeps, groups: readonly GroupKey[]): Promise<Map<string, Customer>> {
  const byAccount = new Map<string, Set<string>>();
  for (const g of groups) {
    if (!byAccount.has(g.accountId)) byAccount.set(g.accountId, new Set());
    byAccount.get(g.accountId)!.add(g.customerId);
  }
  const answers = await Promise.all([...byAccount].map(([accountId, ids]) => deps.identity.getCustomers({ accountId, customerIds: [...ids] })));
  return new Map(answers.flatMap((a) => a.customers.map((c) => [c.id, c] as const)));
}

/** ResMan: the customer's contact details, and the messages logged on their card. */
function pushToResman(deps: QueueWorkerDeps, w: Work, customer: Customer, comms: Map<string, QueuedCommunication>, mapping: { prospectId: string; personId: string | null } | null): Promise<GuestCardOutcome> {
  const { integration, rows } = w;
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
    mapping,
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

/** The failed groups' rows pending again with their backoff, or failed for good; the attempts logged. */
async function recordFailures(deps: QueueWorkerDeps, failed: readonly Failed[], summary: RoundSummary, logger: Logger): Promise<void> {
  const now = new Date();
  const settles = failed.map((f) => ({
    ...f,
    outcomes: f.rows.map((r): RowOutcome => {
      const next = afterFailedAttempt(r, f.failure, now, deps.retry);
      return { id: r.id, status: next.status, retryCount: next.retryCount, nextRetryAt: next.status === 'pending' ? next.nextRetryAt : null, errorMessage: next.errorMessage };
    }),
    attempt: f,
  }));
  summary.failed += failed.length;
  summary.failures.push(...failed.map((f) => f.failure));
  try {
    await settleAll(deps, settles);
  } catch (err) {
    // The rows stay 'processing': taken back (by any worker) once their lease has run out.
    logger.error({ err: String(err), failures: failed.map((f) => f.failure.reason) }, 'could not record the failed ResMan pushes');
    return;
  }
  for (const s of settles) {
    const level = s.failure.kind === 'deferred' ? 'debug' : 'warn';
    logger[level]({
      account_id: s.group.accountId, property_id: s.group.propertyId, customer_id: s.group.customerId, messages: s.rows.length,
      code: s.failure.code, reason: s.failure.reason, gave_up: s.outcomes.filter((o) => o.status === 'failed').length,
    }, 'ResMan push failed');
  }
}

/** The pushed groups recorded in one transaction; when that finds rows taken over, each group alone. */
async function recordSuccesses(deps: QueueWorkerDeps, pushed: readonly Pushed[], summary: RoundSummary, logger: Logger): Promise<void> {
  const record = (list: readonly Pushed[]) => inTransaction(deps.orm, { actorType: 'system' }, (uow) => recordPushes(uow, deps.worker, list));
  try {
    await record(pushed);
    summary.pushed += pushed.length;
    return;
  } catch (err) {
    if (pushed.length === 1 || !(err instanceof RowsTakenOverError)) {
      noteRecordFailure(err, pushed, summary, logger);
      return;
    }
  }
  for (const p of pushed) {
    try {
      await record([p]);
      summary.pushed++;
    } catch (err) {
      noteRecordFailure(err, [p], summary, logger);
    }
  }
}

function noteRecordFailure(err: unknown, pushed: readonly Pushed[], summary: RoundSummary, logger: Logger): void {
  if (err instanceof RowsTakenOverError) {
    summary.takenOver += pushed.length;
    logger.warn({ groups: pushed.length }, 'queued ResMan push taken over by another worker before it was recorded; the other records it');
    return;
  }
  // ResMan has the events; the rows stay 'processing' until their lease runs out, and the next attempt finds the
  // markers on the card.
  summary.failed += pushed.length;
  summary.failures.push(...pushed.map((): AttemptFailure => ({ kind: 'transient', code: 'internal', reason: String(err) })));
  logger.error({ err: String(err), groups: pushed.length }, 'could not record the ResMan push');
}

/**
 * Outcomes of claimed rows (`outcomes[n]` is `rows[n]`'s) and their communications ('pending' again or 'failed'), and
 * for real attempts their lead_sync_log rows and the integrations' health, in one transaction for any number of groups.
 */
async function settleAll(
  deps: QueueWorkerDeps,
  settles: ReadonlyArray<{ group: GroupKey; rows: ClaimedRow[]; outcomes: RowOutcome[]; attempt: Pick<Failed, 'failure' | 'integration' | 'processingTimeMs' | 'resmanFailure'> | null }>,
): Promise<void> {
  const outcomes = settles.flatMap((s) => s.outcomes);
  // No events: the actor is never written.
  await inTransaction(deps.orm, { actorType: 'system' }, async ({ em }) => {
    if ((await settleRows(em, outcomes, deps.worker)) !== outcomes.length) throw new RowsTakenOverError('queue rows taken over by another worker');
    await recordFailedCommunications(em, settles.flatMap((s) => s.outcomes.map((o, n) => ({
      accountId: s.group.accountId, messageId: s.rows[n]!.messageId, status: o.status === 'pending' ? 'pending' as const : 'failed' as const, error: o.errorMessage,
    }))));
    const unhealthy = new Map<string, { accountId: string; auth: boolean[] }>();
    const logs: SyncLogRow[] = [];
    for (const { group, rows, outcomes: rowOutcomes, attempt } of settles) {
      if (!attempt || attempt.failure.kind === 'deferred') continue;
      for (const [n, o] of rowOutcomes.entries()) {
        const row = rows[n]!;
        logs.push({
          accountId: group.accountId, propertyId: group.propertyId, customerId: group.customerId, conversationId: row.conversationId, messageId: row.messageId,
          syncDirection: 'to_resman', syncStatus: o.status === 'pending' ? 'retry' : 'failed', syncType: 'update',
          syncData: { messageId: row.messageId, eventType: row.data.eventType, messages: rows.length },
          errorMessage: o.errorMessage, errorCode: attempt.failure.code.slice(0, 100), retryCount: row.retryCount, processingTimeMs: attempt.processingTimeMs,
        });
      }
      if (!attempt.resmanFailure) continue;
      const seen = unhealthy.get(attempt.integration.id) ?? { accountId: group.accountId, auth: [] };
      seen.auth.push(attempt.failure.code === 'auth');
      unhealthy.set(attempt.integration.id, seen);
    }
    await insertSyncLogs(em, logs);
    // Each failed push of the integration counts, in the order they were made.
    for (const [id, { accountId, auth }] of unhealthy) {
      const integration = await em.findOne(ResmanIntegration, { id, accountId });
      if (!integration) continue;
      const at = new Date();
      for (const a of auth) Object.assign(integration, afterFailedPush(integration, { auth: a }, at));
    }
  });
}

/**
 * The round's transaction for its pushed groups: the rows completed, the communications logged, the mappings and
 * contacts completed, possible duplicate leads kept for review, the integrations' health restored, and
 * resman.lead.synced emitted per message. One statement per kind of write, whatever the number of groups.
 */
async function recordPushes(uow: UnitOfWork, worker: string, pushed: readonly Pushed[]): Promise<void> {
  const { em } = uow;
  const done = pushed.flatMap((p) => p.rows.map((r) => ({ id: r.id, prospectId: p.outcome.prospectId })));
  if ((await completeRows(em, done, worker)) !== done.length) throw new RowsTakenOverError('queue rows taken over by another worker');
  const logged = pushed.map((p) => ({
    ...p,
    messages: p.outcome.messages.map((m) => ({ ...m, syncType: m.created ? 'create' as const : 'update' as const })),
    // The customer's latest conversation among the pushed messages.
    conversationId: [...p.rows].reverse().find((r) => r.conversationId !== null)?.conversationId ?? null,
  }));
  await recordLoggedCommunications(em, logged.flatMap((p) => p.messages.map((m) => ({ ...m, accountId: p.group.accountId, prospectId: p.outcome.prospectId }))));
  await insertSyncLogs(em, logged.flatMap((p) => {
    const rowOf = new Map(p.rows.map((r) => [r.messageId, r]));
    const { prospectId, personId, attached } = p.outcome;
    return p.messages.map((m): SyncLogRow => {
      const row = rowOf.get(m.messageId)!;
      return {
        accountId: p.group.accountId, propertyId: p.group.propertyId, customerId: p.group.customerId, conversationId: row.conversationId, messageId: m.messageId,
        resmanLeadId: prospectId, syncDirection: 'to_resman', syncStatus: 'success', syncType: m.syncType,
        syncData: { messageId: m.messageId, eventType: m.eventType, created: m.created, attached, alreadyInResman: m.alreadyInResman, messages: p.rows.length },
        responseData: { prospectId, personId },
        retryCount: row.retryCount, processingTimeMs: p.processingTimeMs,
      };
    });
  }));
  const leads = logged.map((p) => ({ ...p.group, conversationId: p.conversationId, prospectId: p.outcome.prospectId, personId: p.outcome.personId, syncs: p.rows.length }));
  const mappings = await recordSyncedMappings(em, leads);
  for (const l of leads) {
    if (!mappings.has(groupKeyOf(l))) throw new Error(`lead_sync_mapping for property ${l.propertyId} belongs to another account`);
  }
  await recordContactSyncs(em, leads);
  for (const p of logged) {
    if (p.outcome.attached) await recordDuplicateLeads(em, { ...p.group, conversationId: p.conversationId, prospectId: p.outcome.prospectId });
  }
  await recordHealth(em, pushed);
  for (const p of logged) {
    const mapping = mappings.get(groupKeyOf(p.group))!;
    const rowOf = new Map(p.rows.map((r) => [r.messageId, r]));
    const { accountId, propertyId, customerId } = p.group;
    for (const m of p.messages) {
      const row = rowOf.get(m.messageId)!;
      uow.emit(events.leadSynced, {
        accountId, propertyId, customerId, conversationId: row.conversationId ?? '', prospectId: p.outcome.prospectId, personId: p.outcome.personId, created: m.created,
      }, { entityId: mapping.id, accountId, customerId, conversationId: row.conversationId, causationMsgId: row.data.eventId || null });
    }
  }
}

/** Each integration's health after its successful pushes, as read when the round began (written at most once a second). */
async function recordHealth(em: EntityManager, pushed: readonly Pushed[]): Promise<void> {
  const now = new Date();
  const integrations = new Map(pushed.map((p) => [p.integration.id, p.integration]));
  for (const pushedWith of integrations.values()) {
    if (!successNeedsRecording(pushedWith, now)) continue;
    const integration = await em.findOne(ResmanIntegration, { id: pushedWith.id, accountId: pushedWith.accountId });
    if (integration) Object.assign(integration, afterSuccessfulPush(integration, now));
  }
}

// Another DomIQ customer of this property already maps to the prospect we attached to: identity may not
// have merged two identities of one person yet. Kept for review instead of refused.
async function recordDuplicateLeads(em: EntityManager, s: { accountId: string; propertyId: string; customerId: string; conversationId: string | null; prospectId: string }): Promise<void> {
  const others = await findOtherCustomersOfProspect(em, s);
  for (const other of others) {
    em.create(LeadSyncConflict, {
      accountId: s.accountId, propertyId: s.propertyId, customerId: s.customerId, conversationId: s.conversationId, resmanLeadId: s.prospectId,
      conflictType: 'duplicate_lead', conflictField: 'customer_id', resmanValue: { prospectId: s.prospectId },
      domiqValue: { customerIds: [other.customerId, s.customerId] }, conflictSeverity: 'medium', resolutionStatus: 'manual_review',
    });
  }
}
