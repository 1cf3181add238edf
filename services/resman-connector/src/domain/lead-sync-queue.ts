// The lead-sync queue's rules (lead_sync_queue, resman-lead-sync.md): what a queued push is worth, when a failed
// attempt is tried again, and when it is given up. Pure: the worker (src/app/push-queued-leads.ts) applies them.
import { retryDelayMs } from '@domiq/outbound';

/** The seed's priorities: 1 low, 2 medium, 3 high. */
export type QueuePriority = 1 | 2 | 3;

/** A customer's inbound message logged on their guest card: medium, as the seed's own push trigger queues them. */
export const INBOUND_MESSAGE_PRIORITY: QueuePriority = 2;

export interface RetryPolicy {
  /** Delay before the first retry; each further retry doubles it. */
  initialDelayMs: number;
  /** No retry waits longer. */
  maxDelayMs: number;
  /** Retries after the first attempt; the row fails when the last one fails too. */
  maxRetries: number;
}

/** How long to wait before retry number `retry` (1 for the first): @domiq/outbound's jittered exponential backoff. */
export { retryDelayMs };

/**
 * Why an attempt did not go through. `permanent`: sending the same thing again cannot help (ResMan refused it, the
 * customer does not exist). `transient`: worth another try after a pause (a timeout, a 5xx, our own database).
 * `deferred`: not really attempted (ResMan's circuit is open after failures of other rows): tried again later without
 * spending a retry.
 */
export interface AttemptFailure {
  kind: 'permanent' | 'transient' | 'deferred';
  /** Short machine-readable code (lead_sync_log.error_code). */
  code: string;
  reason: string;
}

export interface QueuedAttempt {
  retryCount: number;
  maxRetries: number;
}

export type AfterFailure =
  | { status: 'pending'; retryCount: number; nextRetryAt: Date; errorMessage: string }
  | { status: 'failed'; retryCount: number; errorMessage: string };

const MAX_ERROR_CHARS = 2000;
const clip = (text: string) => text.slice(0, MAX_ERROR_CHARS);

/** What a failed attempt does to its queue row: tried again after a backoff, or failed with the reason. */
export function afterFailedAttempt(row: QueuedAttempt, failure: AttemptFailure, now: Date, policy: Pick<RetryPolicy, 'initialDelayMs' | 'maxDelayMs'>): AfterFailure {
  if (failure.kind === 'permanent') return { status: 'failed', retryCount: row.retryCount, errorMessage: clip(failure.reason) };
  if (failure.kind === 'deferred') {
    return { status: 'pending', retryCount: row.retryCount, nextRetryAt: new Date(now.getTime() + retryDelayMs(Math.max(1, row.retryCount), policy)), errorMessage: clip(failure.reason) };
  }
  if (row.retryCount >= row.maxRetries) {
    return { status: 'failed', retryCount: row.retryCount, errorMessage: clip(`gave up after ${row.retryCount + 1} attempts: ${failure.reason}`) };
  }
  const retryCount = row.retryCount + 1;
  return { status: 'pending', retryCount, nextRetryAt: new Date(now.getTime() + retryDelayMs(retryCount, policy)), errorMessage: clip(failure.reason) };
}

/** A queue row as the worker claimed it: how often it was tried, and whether an earlier attempt may have reached ResMan. */
export interface ClaimedAttempt {
  retryCount: number;
  /** It was 'processing' when claimed: the worker that held it stopped before recording what it did. */
  wasProcessing: boolean;
  /** Its message's communication row existed before the row was queued (a push before the queue may have sent it). */
  seenBefore: boolean;
}

/**
 * Whether ResMan may already have events of this push: then every guest card is checked for the messages'
 * `[domiq:<message id>]` markers before anything is posted (never twice the same event).
 */
export function mayAlreadyBeInResman(rows: readonly ClaimedAttempt[]): boolean {
  return rows.some((r) => r.retryCount > 0 || r.wasProcessing || r.seenBefore);
}

/**
 * The ResMan account a push talks to: requests are serialised per account (RESMAN.md: ResMan is not autoscaled, real
 * clients send one request at a time per account). The same key as the HTTP client's lane and circuit breaker.
 */
export function resmanAccountKey(integration: { baseUrl: string; resmanAccountId: number }): string {
  return `${integration.baseUrl}|${integration.resmanAccountId}`;
}
