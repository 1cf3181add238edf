import { describe, expect, it } from 'vitest';
import { afterFailedPush, afterSuccessfulPush, PropertyOfAnotherAccountError, pushesToResman } from '../src/domain/resman-integration.ts';

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
