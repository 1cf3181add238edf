import { describe, expect, it } from 'vitest';
import { isTimeZone } from '../src/domain/time-zone.ts';

describe('isTimeZone', () => {
  it('accepts IANA names and UTC', () => {
    for (const tz of ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Tokyo']) expect(isTimeZone(tz)).toBe(true);
  });
  it('refuses abbreviations, offsets and made-up names', () => {
    for (const tz of ['', 'EST5', '+02:00', 'Mars/Olympus_Mons', 'america/new_york']) expect(isTimeZone(tz)).toBe(false);
  });
});
