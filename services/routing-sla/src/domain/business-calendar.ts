import { DateTime, IANAZone, type Zone } from 'luxon';

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export function isWeekday(value: string): value is Weekday {
  return (WEEKDAYS as readonly string[]).includes(value);
}

/** Opening hours of one weekday, local to the calendar's zone: `HH:MM`, end after start; end may be `24:00`. */
export interface DayHours {
  start: string;
  end: string;
}

/** The seed's `slas.business_hours` JSON: days without an entry are closed. */
export type WeeklyHours = Partial<Record<Weekday, DayHours>>;

export class InvalidCalendarError extends Error {
  override name = 'InvalidCalendarError';
  readonly field: string;
  readonly problem: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.field = field;
    this.problem = problem;
  }
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes after local midnight, or throws naming the field. `24:00` is allowed only as an end. */
export function parseClock(value: string, field: string, allowEndOfDay = false): number {
  if (allowEndOfDay && value === '24:00') return 24 * 60;
  const m = HHMM.exec(value);
  if (!m) throw new InvalidCalendarError(field, `must be HH:MM (00:00-23:59${allowEndOfDay ? ' or 24:00' : ''}), got "${value}"`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/**
 * The zone's luxon object, created once per name (null when the name is not an IANA zone). luxon checks a zone given
 * by name on every use by building an Intl.DateTimeFormat: that was 9 % of routing-sla's CPU with one calendar per
 * conversation. A Zone object is taken as it is.
 */
const zones = new Map<string, Zone | null>();
function ianaZone(name: string): Zone | null {
  let zone = zones.get(name);
  if (zone === undefined) {
    zone = name === 'UTC' || IANAZone.isValidZone(name) ? IANAZone.create(name) : null;
    // Names come from stored policies (a handful per tenant); the bound only guards against a flood of bad ones.
    if (zones.size < 10_000) zones.set(name, zone);
  }
  return zone;
}

export function isIanaZone(zone: string): boolean {
  return ianaZone(zone) !== null;
}

interface Window {
  startMinute: number;
  endMinute: number;
}

// Longest search for the next open window: a calendar with at least one open day finds one within a week,
// so this only bounds absurd requests (about ten years of business time).
const MAX_DAYS = 3660;

/**
 * Adds business minutes to an instant: only time inside the weekly opening hours of the calendar's zone
 * counts, so a deadline skips nights and weekends. Windows are laid on each local date, which keeps
 * "09:00-17:00" right across DST changes; a window that straddles a DST jump counts the real minutes
 * that elapse in it (a 01:00-04:00 window on the spring-forward night is two hours long).
 * With `businessHoursOnly` false every minute counts (elapsed time, zone irrelevant).
 */
export class BusinessCalendar {
  readonly zone: string;
  readonly businessHoursOnly: boolean;
  readonly #windows: ReadonlyMap<number, Window>;
  readonly #zone: Zone;

  constructor(opts: { hours: WeeklyHours; timezone: string; businessHoursOnly: boolean }) {
    const zone = ianaZone(opts.timezone);
    if (zone === null) throw new InvalidCalendarError('timezone', `must be an IANA time zone, got "${opts.timezone}"`);
    this.zone = opts.timezone;
    this.#zone = zone;
    this.businessHoursOnly = opts.businessHoursOnly;
    const windows = new Map<number, Window>();
    for (const [day, hours] of Object.entries(opts.hours)) {
      const index = WEEKDAYS.indexOf(day as Weekday);
      if (index < 0) throw new InvalidCalendarError('business_hours', `unknown weekday "${day}"`);
      if (!hours) continue;
      const startMinute = parseClock(hours.start, `business_hours.${day}.start`);
      const endMinute = parseClock(hours.end, `business_hours.${day}.end`, true);
      if (endMinute <= startMinute) throw new InvalidCalendarError(`business_hours.${day}.end`, 'must be after start (overnight windows are two days)');
      windows.set(index + 1, { startMinute, endMinute }); // luxon: 1 = Monday
    }
    if (opts.businessHoursOnly && windows.size === 0) throw new InvalidCalendarError('business_hours', 'needs at least one open day when business_hours_only is set');
    this.#windows = windows;
  }

  /** The instant at which `minutes` business minutes have elapsed since `start`. */
  addMinutes(start: Date, minutes: number): Date {
    if (!Number.isFinite(minutes) || minutes < 0) throw new RangeError(`minutes must be a non-negative number, got ${minutes}`);
    if (minutes === 0) return new Date(start.getTime());
    if (!this.businessHoursOnly) return new Date(start.getTime() + minutes * 60_000);
    let remainingMs = minutes * 60_000;
    let cursor: DateTime<boolean> = DateTime.fromJSDate(start, { zone: this.#zone });
    let day: DateTime<boolean> = cursor.startOf('day');
    for (let i = 0; i <= MAX_DAYS; i++) {
      const window = this.#windows.get(day.weekday);
      if (window) {
        const open = atMinute(day, window.startMinute);
        const close = atMinute(day, window.endMinute);
        if (cursor < open) cursor = open;
        if (cursor < close) {
          const available = close.toMillis() - cursor.toMillis();
          if (remainingMs <= available) return new Date(cursor.toMillis() + remainingMs);
          remainingMs -= available;
          cursor = close;
        }
      }
      day = day.plus({ days: 1 }).startOf('day');
    }
    throw new RangeError(`no deadline within ${MAX_DAYS} days of ${start.toISOString()}`);
  }
}

/** The local instant `minute` minutes into `day` (24:00 is the next midnight); luxon moves a time in a DST gap forward. */
function atMinute(day: DateTime<boolean>, minute: number): DateTime<boolean> {
  if (minute >= 24 * 60) return day.plus({ days: 1 }).startOf('day');
  return day.set({ hour: Math.floor(minute / 60), minute: minute % 60, second: 0, millisecond: 0 });
}
