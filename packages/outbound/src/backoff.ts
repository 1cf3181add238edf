// How long a durable work queue waits before trying a failed outbound call again (the connector's lead-sync queue,
// the gateway's reply deliveries). cockatiel's exponential backoff with half jitter: between half the step and the
// step, so a crowd of rows that failed together in an outage does not come back at the same instant.
import { ExponentialBackoff, halfJitterGenerator } from 'cockatiel';

export interface BackoffPolicy {
  /** Delay before the first retry; each further retry doubles it. */
  initialDelayMs: number;
  /** No retry waits longer. */
  maxDelayMs: number;
}

/** The delay before retry number `retry` (1 for the first). */
export function retryDelayMs(retry: number, policy: BackoffPolicy): number {
  let backoff = new ExponentialBackoff({ generator: halfJitterGenerator, initialDelay: policy.initialDelayMs, maxDelay: policy.maxDelayMs }).next();
  for (let n = 1; n < retry; n++) backoff = backoff.next(undefined);
  return backoff.duration;
}
