import { describe, expect, it } from 'vitest';
import { BusinessCalendar, InvalidCalendarError, type WeeklyHours } from '../src/domain/business-calendar.ts';

const nineToFive = { start: '09:00', end: '17:00' };
const weekdays: WeeklyHours = { monday: nineToFive, tuesday: nineToFive, wednesday: nineToFive, thursday: nineToFive, friday: nineToFive };
const newYork = new BusinessCalendar({ hours: weekdays, timezone: 'America/New_York', businessHoursOnly: true });
const at = (iso: string) => new Date(iso);
const add = (cal: BusinessCalendar, iso: string, minutes: number) => cal.addMinutes(at(iso), minutes).toISOString();

describe('BusinessCalendar', () => {
  it('adds minutes inside one working day', () => {
    // Tue 3 Mar 2026 10:00 EST (UTC-5) + 90 min = 11:30 EST.
    expect(add(newYork, '2026-03-03T15:00:00Z', 90)).toBe('2026-03-03T16:30:00.000Z');
  });

  it('ends exactly at closing time rather than rolling over to the next morning', () => {
    expect(add(newYork, '2026-03-02T14:00:00Z', 480)).toBe('2026-03-02T22:00:00.000Z');
  });

  it('skips the night: what does not fit before 17:00 continues at 09:00 the next day', () => {
    // Tue 16:30 EST + 60 min = 30 min on Tuesday + 30 min on Wednesday -> Wed 09:30 EST.
    expect(add(newYork, '2026-03-03T21:30:00Z', 60)).toBe('2026-03-04T14:30:00.000Z');
  });

  it('starts counting at opening time when the clock starts before hours', () => {
    // Mon 07:00 EST + 30 -> Mon 09:30 EST.
    expect(add(newYork, '2026-03-02T12:00:00Z', 30)).toBe('2026-03-02T14:30:00.000Z');
  });

  it('skips the weekend', () => {
    // Fri 27 Feb 16:00 EST + 120 min = 60 on Friday + 60 on Monday -> Mon 2 Mar 10:00 EST.
    expect(add(newYork, '2026-02-27T21:00:00Z', 120)).toBe('2026-03-02T15:00:00.000Z');
    // A conversation opened on Saturday starts its clock on Monday morning.
    expect(add(newYork, '2026-02-28T17:00:00Z', 30)).toBe('2026-03-02T14:30:00.000Z');
  });

  it('keeps 09:00 local across the DST spring-forward weekend in America/New_York', () => {
    // Fri 6 Mar 16:00 EST (UTC-5) + 120 min -> Mon 9 Mar 10:00 EDT (UTC-4) = 14:00Z (a fixed-offset sum would say 15:00Z).
    expect(add(newYork, '2026-03-06T21:00:00Z', 120)).toBe('2026-03-09T14:00:00.000Z');
  });

  it('counts the real minutes of a window that straddles the DST gap', () => {
    const sundayNights = new BusinessCalendar({ hours: { sunday: { start: '01:00', end: '04:00' } }, timezone: 'America/New_York', businessHoursOnly: true });
    // Sun 8 Mar 01:00 EST: 02:00-03:00 does not exist, so the window holds 120 minutes, and 30 carry over a week.
    expect(add(sundayNights, '2026-03-08T06:00:00Z', 120)).toBe('2026-03-08T08:00:00.000Z');
    expect(add(sundayNights, '2026-03-08T06:00:00Z', 150)).toBe('2026-03-15T05:30:00.000Z');
  });

  it('keeps 09:00 local across the autumn fall-back too', () => {
    // Fri 30 Oct 2026 16:00 EDT + 120 -> Mon 2 Nov 10:00 EST = 15:00Z.
    expect(add(newYork, '2026-10-30T20:00:00Z', 120)).toBe('2026-11-02T15:00:00.000Z');
  });

  it('adds elapsed minutes around the clock when business_hours_only is false (a 24/7 policy)', () => {
    const always = new BusinessCalendar({ hours: weekdays, timezone: 'America/New_York', businessHoursOnly: false });
    // Sat 7 Mar 23:00 EST + 240 min, across the spring-forward gap: four real hours later.
    expect(add(always, '2026-03-08T04:00:00Z', 240)).toBe('2026-03-08T08:00:00.000Z');
    expect(add(always, '2026-03-06T21:00:00Z', 60 * 24 * 3)).toBe('2026-03-09T21:00:00.000Z');
  });

  it('treats 00:00-24:00 every day as round the clock', () => {
    const day = { start: '00:00', end: '24:00' };
    const allWeek = new BusinessCalendar({
      hours: { monday: day, tuesday: day, wednesday: day, thursday: day, friday: day, saturday: day, sunday: day }, timezone: 'America/New_York', businessHoursOnly: true,
    });
    expect(add(allWeek, '2026-03-08T04:00:00Z', 240)).toBe('2026-03-08T08:00:00.000Z');
  });

  it('zero minutes is the start itself', () => {
    expect(add(newYork, '2026-02-28T17:00:00Z', 0)).toBe('2026-02-28T17:00:00.000Z');
  });

  it('rejects a malformed calendar, naming the field', () => {
    const bad = (hours: WeeklyHours, timezone = 'UTC') => () => new BusinessCalendar({ hours, timezone, businessHoursOnly: true });
    expect(bad({ monday: { start: '9am', end: '17:00' } })).toThrow(/business_hours\.monday\.start/);
    expect(bad({ monday: { start: '17:00', end: '09:00' } })).toThrow(/business_hours\.monday\.end/);
    expect(bad({ monday: nineToFive }, 'Mars/Olympus')).toThrow(InvalidCalendarError);
    expect(bad({})).toThrow(/at least one open day/);
  });
});
