import { describe, expect, it } from 'vitest';
import { defineSlaPolicy, InvalidSlaPolicyError, MAX_SLA_MINUTES, type SlaPolicyDraft } from '../src/domain/sla-policy.ts';

function draft(over: Partial<SlaPolicyDraft> = {}): SlaPolicyDraft {
  return {
    tier: 'standard', firstResponseMinutes: 60, resolutionMinutes: 480, updateIntervalMinutes: 0, timezone: '', businessHoursOnly: false,
    businessHours: [], channelOverrides: {}, priorityOverrides: {}, ...over,
  };
}

/** The field an invalid draft is refused for. */
function refused(over: Partial<SlaPolicyDraft>): string {
  try {
    defineSlaPolicy(draft(over));
  } catch (err) {
    if (err instanceof InvalidSlaPolicyError) return err.field;
    throw err;
  }
  throw new Error('accepted');
}

describe('defineSlaPolicy', () => {
  it('fills in the defaults: UTC, a 720-minute update interval, no overrides', () => {
    expect(defineSlaPolicy(draft())).toEqual({
      tier: 'standard', firstResponseTimeMinutes: 60, resolutionTimeMinutes: 480, updateIntervalMinutes: 720, timezone: 'UTC', businessHoursOnly: false,
      businessHours: {}, channelOverrides: {}, priorityOverrides: {},
    });
  });

  it('keeps business hours by weekday and overrides in the seed JSON shape (0 = not overridden)', () => {
    const d = defineSlaPolicy(draft({
      businessHoursOnly: true, timezone: 'Europe/London',
      businessHours: [{ day: 'Monday', start: '09:00', end: '17:00' }, { day: 'saturday', start: '10:00', end: '24:00' }],
      channelOverrides: { email: { firstResponseMinutes: 90, resolutionMinutes: 0 } },
      priorityOverrides: { P0: { firstResponseMinutes: 5, resolutionMinutes: 60 } },
    }));
    expect(d.businessHours).toEqual({ monday: { start: '09:00', end: '17:00' }, saturday: { start: '10:00', end: '24:00' } });
    expect(d.channelOverrides).toEqual({ email: { first_response: 90 } });
    expect(d.priorityOverrides).toEqual({ P0: { first_response: 5, resolution: 60 } });
  });

  it('refuses bad terms, naming the field as the API spells it', () => {
    expect(refused({ tier: 'gold' })).toBe('tier');
    expect(refused({ firstResponseMinutes: 0 })).toBe('first_response_minutes');
    expect(refused({ firstResponseMinutes: 1.5 })).toBe('first_response_minutes');
    expect(refused({ resolutionMinutes: MAX_SLA_MINUTES + 1 })).toBe('resolution_minutes');
    expect(refused({ firstResponseMinutes: 120, resolutionMinutes: 60 })).toBe('resolution_minutes');
    expect(refused({ updateIntervalMinutes: -1 })).toBe('update_interval_minutes');
    expect(refused({ timezone: 'Mars/Olympus_Mons' })).toBe('timezone');
    expect(refused({ businessHours: [{ day: 'funday', start: '09:00', end: '17:00' }] })).toBe('business_hours[0].day');
    expect(refused({ businessHours: [{ day: 'monday', start: '09:00', end: '12:00' }, { day: 'monday', start: '13:00', end: '17:00' }] })).toBe('business_hours[1].day');
    expect(refused({ businessHours: [{ day: 'monday', start: '9am', end: '17:00' }] })).toBe('business_hours[0].start');
    expect(refused({ businessHours: [{ day: 'monday', start: '09:00', end: '25:00' }] })).toBe('business_hours[0].end');
    expect(refused({ businessHours: [{ day: 'monday', start: '22:00', end: '02:00' }] })).toBe('business_hours[0].end');
    expect(refused({ businessHoursOnly: true, businessHours: [] })).toBe('business_hours');
    expect(refused({ channelOverrides: { pigeon: { firstResponseMinutes: 5, resolutionMinutes: 0 } } })).toBe('channel_overrides[pigeon]');
    expect(refused({ channelOverrides: { sms: { firstResponseMinutes: 0, resolutionMinutes: 0 } } })).toBe('channel_overrides[sms]');
    expect(refused({ priorityOverrides: { P0: { firstResponseMinutes: -5, resolutionMinutes: 0 } } })).toBe('priority_overrides[P0].first_response_minutes');
  });

  it('accepts closed days when every minute counts', () => {
    expect(defineSlaPolicy(draft({ businessHoursOnly: false, businessHours: [] })).businessHours).toEqual({});
  });
});
