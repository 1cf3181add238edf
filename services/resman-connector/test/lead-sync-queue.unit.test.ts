import { describe, expect, it } from 'vitest';
import { afterFailedAttempt, mayAlreadyBeInResman, resmanAccountKey, retryDelayMs, type AttemptFailure } from '../src/domain/lead-sync-queue.ts';

const policy = { initialDelayMs: 1000, maxDelayMs: 60_000 };
const now = new Date('2026-12-01T12:00:00Z');
const transient: AttemptFailure = { kind: 'transient', code: 'http_503', reason: 'MITS/SearchProspects: HTTP 503' };

describe('retryDelayMs', () => {
  it('doubles from the initial delay, with jitter between half the step and the step, capped at the maximum', () => {
    for (let i = 0; i < 200; i++) {
      for (const [retry, step] of [[1, 1000], [2, 2000], [3, 4000], [6, 32_000], [7, 60_000], [40, 60_000]] as const) {
        const delay = retryDelayMs(retry, policy);
        expect(delay, `retry ${retry}`).toBeGreaterThanOrEqual(step / 2);
        expect(delay, `retry ${retry}`).toBeLessThan(step);
      }
    }
  });

  it('spreads rows that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelayMs(5, policy)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe('afterFailedAttempt', () => {
  it('retries a transient failure later, one retry more, until the retries are spent; then fails with the reason', () => {
    const first = afterFailedAttempt({ retryCount: 0, maxRetries: 2 }, transient, now, policy);
    expect(first).toMatchObject({ status: 'pending', retryCount: 1, errorMessage: transient.reason });
    const wait = (first as { nextRetryAt: Date }).nextRetryAt.getTime() - now.getTime();
    expect(wait).toBeGreaterThanOrEqual(500);
    expect(wait).toBeLessThan(1000);
    expect(afterFailedAttempt({ retryCount: 1, maxRetries: 2 }, transient, now, policy)).toMatchObject({ status: 'pending', retryCount: 2 });
    expect(afterFailedAttempt({ retryCount: 2, maxRetries: 2 }, transient, now, policy))
      .toEqual({ status: 'failed', retryCount: 2, errorMessage: `gave up after 3 attempts: ${transient.reason}` });
  });

  it('fails a permanent failure at once with its reason, whatever retries are left', () => {
    const refused: AttemptFailure = { kind: 'permanent', code: 'rejected', reason: 'ResMan refused the sync: Transaction Source could not be found' };
    expect(afterFailedAttempt({ retryCount: 0, maxRetries: 10 }, refused, now, policy)).toEqual({ status: 'failed', retryCount: 0, errorMessage: refused.reason });
  });

  it('puts off a deferred attempt without spending a retry', () => {
    const open: AttemptFailure = { kind: 'deferred', code: 'circuit_open', reason: 'circuit open after repeated failures' };
    const next = afterFailedAttempt({ retryCount: 2, maxRetries: 2 }, open, now, policy);
    expect(next).toMatchObject({ status: 'pending', retryCount: 2 });
    expect((next as { nextRetryAt: Date }).nextRetryAt.getTime()).toBeGreaterThan(now.getTime());
  });

  it('keeps the stored reason within the column budget', () => {
    const long = afterFailedAttempt({ retryCount: 0, maxRetries: 0 }, { ...transient, reason: 'x'.repeat(5000) }, now, policy);
    expect(long.errorMessage.length).toBe(2000);
  });
});

describe('mayAlreadyBeInResman', () => {
  const fresh = { retryCount: 0, wasProcessing: false, seenBefore: false };
  it('is false only when every row is on its first attempt', () => {
    expect(mayAlreadyBeInResman([fresh, fresh])).toBe(false);
    expect(mayAlreadyBeInResman([fresh, { ...fresh, retryCount: 1 }])).toBe(true);
    expect(mayAlreadyBeInResman([{ ...fresh, wasProcessing: true }])).toBe(true);
    expect(mayAlreadyBeInResman([{ ...fresh, seenBefore: true }])).toBe(true);
  });
});

describe('resmanAccountKey', () => {
  it('is one key per ResMan endpoint and account', () => {
    expect(resmanAccountKey({ baseUrl: 'https://api.myresman.com', resmanAccountId: 400 })).toBe('https://api.myresman.com|400');
    expect(resmanAccountKey({ baseUrl: 'https://api.myresman.com', resmanAccountId: 401 })).not.toBe(resmanAccountKey({ baseUrl: 'https://api.myresman.com', resmanAccountId: 400 }));
  });
});
