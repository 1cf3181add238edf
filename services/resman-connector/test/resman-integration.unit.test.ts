import { describe, expect, it } from 'vitest';
import {
  afterFailedPush, afterSuccessfulPush, HEALTH_WRITE_INTERVAL_MS, PropertyOfAnotherAccountError, pushesToResman, successNeedsRecording,
} from '../src/domain/resman-integration.ts';

describe('pushesToResman', () => {
  const on = { syncEnabled: true, syncDirection: 'bidirectional', syncStatus: 'active' };

  it('pushes when enabled, towards ResMan, and active or in error', () => {
    expect(pushesToResman(on)).toBe(true);
    expect(pushesToResman({ ...on, syncDirection: 'to_resman' })).toBe(true);
    expect(pushesToResman({ ...on, syncStatus: 'error' })).toBe(true);
  });

  it('does not push when disabled, pull-only, paused or disconnected', () => {
    expect(pushesToResman({ ...on, syncEnabled: false })).toBe(false);
    expect(pushesToResman({ ...on, syncDirection: 'from_resman' })).toBe(false);
    expect(pushesToResman({ ...on, syncStatus: 'paused' })).toBe(false);
    expect(pushesToResman({ ...on, syncStatus: 'disconnected' })).toBe(false);
  });
});

describe('integration health', () => {
  const at = new Date('2026-01-02T03:04:05Z');

  it('counts failed pushes; refused credentials put the integration in error', () => {
    expect(afterFailedPush({ syncStatus: 'active', errorCount: 2 }, { auth: false }, at)).toEqual({ syncStatus: 'active', errorCount: 3, lastSyncAt: at });
    expect(afterFailedPush({ syncStatus: 'active', errorCount: 0 }, { auth: true }, at)).toEqual({ syncStatus: 'error', errorCount: 1, lastSyncAt: at });
    expect(afterFailedPush({ syncStatus: 'paused', errorCount: 0 }, { auth: false }, at).syncStatus).toBe('paused');
  });

  it('a successful push clears the errors and takes the integration out of error, but leaves other states', () => {
    expect(afterSuccessfulPush({ syncStatus: 'error', errorCount: 4 }, at)).toEqual({ syncStatus: 'active', errorCount: 0, lastSyncAt: at, lastSuccessfulSyncAt: at });
    expect(afterSuccessfulPush({ syncStatus: 'paused', errorCount: 1 }, at).syncStatus).toBe('paused');
  });

  it('answers another account as if the property did not exist', () => {
    expect(new PropertyOfAnotherAccountError('p-1').message).toBe('property p-1 not found');
  });
});

describe('successNeedsRecording', () => {
  const at = new Date('2026-12-02T12:00:00Z');
  const healthy = { syncStatus: 'active', errorCount: 0, lastSuccessfulSyncAt: new Date(at.getTime() - 200) };

  it('skips the write for a healthy integration that succeeded within the interval', () => {
    expect(successNeedsRecording(healthy, at)).toBe(false);
  });

  it('writes once the last success is older than the interval', () => {
    expect(successNeedsRecording({ ...healthy, lastSuccessfulSyncAt: new Date(at.getTime() - HEALTH_WRITE_INTERVAL_MS) }, at)).toBe(true);
  });

  it('always writes when there is something to heal or nothing recorded yet: errors, an error state, a first success', () => {
    expect(successNeedsRecording({ ...healthy, errorCount: 1 }, at)).toBe(true);
    expect(successNeedsRecording({ ...healthy, syncStatus: 'error' }, at)).toBe(true);
    expect(successNeedsRecording({ ...healthy, lastSuccessfulSyncAt: null }, at)).toBe(true);
  });
});
