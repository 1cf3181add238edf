// Dates and times in a message, resolved against when it was sent (its local date and time, from sent_at's offset).
import * as chrono from 'chrono-node';
import type { Language } from './labels.ts';

/** When a message was sent: the instant and the sender's local wall clock. */
export interface SentAt {
  instant: Date;
  offsetMinutes: number;
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

export function parseSentAt(sentAt: string): SentAt | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(sentAt.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, , tz] = m;
  let offsetMinutes = 0;
  if (tz && tz.toUpperCase() !== 'Z') {
    const sign = tz.startsWith('-') ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
  }
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi));
  const instant = new Date(local - offsetMinutes * 60_000);
  if (Number.isNaN(instant.getTime())) return undefined;
  const check = new Date(local);
  if (check.getUTCMonth() + 1 !== Number(mo) || check.getUTCDate() !== Number(d)) return undefined;
  return { instant, offsetMinutes, year: Number(y), month: Number(mo), day: Number(d), hour: Number(h), minute: Number(mi) };
}

export type DatePrecision = 'day' | 'month' | 'time';

/** A date or time the text mentions. */
export interface Mention {
  index: number;
  text: string;
  year: number;
  month: number;
  day: number;
  /** 'day': a known day (with or without a time); 'month': only the month; 'time': a clock time without a day. */
  precision: DatePrecision;
  hour?: number;
  minute?: number;
  meridiemKnown: boolean;
}

const pad = (n: number) => String(n).padStart(2, '0');
export const isoDay = (y: number, m: number, d: number) => `${y}-${pad(m)}-${pad(d)}`;
export const isoMonth = (y: number, m: number) => `${y}-${pad(m)}`;
export const isoLocalTime = (y: number, m: number, d: number, h: number, min: number) => `${isoDay(y, m, d)}T${pad(h)}:${pad(min)}`;

/** Days from the sent date to y-m-d (negative: before it). */
export function daysFrom(ref: SentAt, y: number, m: number, d: number): number {
  return Math.round((Date.UTC(y, m - 1, d) - Date.UTC(ref.year, ref.month - 1, ref.day)) / 86_400_000);
}

export function addDays(y: number, m: number, d: number, days: number): [number, number, number] {
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate()];
}

function nextMonth(ref: SentAt, plus = 1): [number, number] {
  const t = new Date(Date.UTC(ref.year, ref.month - 1 + plus, 1));
  return [t.getUTCFullYear(), t.getUTCMonth() + 1];
}

// Expressions chrono reads as a day that the guide treats as a month ("end of July") or as nothing ("next week").
const MONTH_ONLY_BEFORE = /(end|beginning|start|middle|first week|last week|first half|second half)\s+of\s+(the\s+)?$|\b(mid|early|late)[\s-]*$|\b(finales|principios|mediados|fines|inicios)\s+de\s+$/;
const VAGUE = /^(next|this|la proxima|esta|la otra)\s+(week|semana)$|^(last|past)\b|\bago\b|^(tarde|noche|manana por la manana)$/;

// A time alone must look like one ("at 5", "5:30", "4pm", "a las 6", "noon"), not "de 1" (recámara).
const CLOCK = /\d:\d\d|\d\s*(?:am|pm|a\.m\.|p\.m\.)|\b(?:at|around|a las|las)\s+\d|o'?clock|\bnoon\b|mediod[ií]a/i;
// Counted things and amounts hide from the date parser ("december 2 bedroom" is not a year 2 BE; "under 1800" is no
// year), keeping every index in place.
const COUNTED = /\b\d+(?:\.\d)?\s*-?\s*(?:br|bd|bdrm|bed|beds|bedrooms?|bath|baths|bathrooms?|ba|recamaras?|habitacion(?:es)?|cuartos?|banos?|people|personas|ppl|dogs?|cats?|perros?|gatos?|kids?|adults?|of us|lbs?|lb|pounds|weeks?-long)\b|\$\s?\d[\d,.]*|\b(?!20\d\d\b)\d{3,5}\b|\b\d{1,4}[a-jl-z]\b/gi;
const maskCounts = (text: string) => text.replace(COUNTED, (m) => '#'.repeat(m.length));

// "buenas tardes", "good morning": a greeting, not a time.
const GREETING = /^(?:buen[oa]s?\s+)?(?:tardes?|noches?|dias?|morning|afternoon|evening|night)$/;

/**
 * Every date and time mention, resolved forward (an unqualified "March 1st" is the next March 1st, as in "moving March
 * 1st") or backward ("charged on 3/1"), in the message's language.
 */
export function findDates(text: string, language: Language, ref: SentAt, direction: 'forward' | 'nearest'): Mention[] {
  const parser = language === 'es' ? chrono.es : chrono;
  const results = parser.parse(maskCounts(text), { instant: ref.instant, timezone: ref.offsetMinutes }, { forwardDate: direction === 'forward' });
  const out: Mention[] = [];
  for (const r of results) {
    const s = r.start;
    const lower = r.text.toLowerCase().trim();
    if (VAGUE.test(lower) || GREETING.test(lower)) continue;
    const before = text.slice(Math.max(0, r.index - 24), r.index).toLowerCase();
    const dayKnown = s.isCertain('day') || s.isCertain('weekday');
    const hourKnown = s.isCertain('hour');
    let precision: DatePrecision;
    if (dayKnown) precision = 'day';
    else if (s.isCertain('month')) precision = 'month';
    else if (hourKnown && CLOCK.test(r.text)) precision = 'time';
    else continue;
    if (s.get('year')! < 2000) continue;
    if (precision === 'day' && (/^(end|beginning|start|middle) of\b/.test(lower) || MONTH_ONLY_BEFORE.test(before)) && !s.isCertain('weekday')) precision = 'month';
    if (precision === 'month' && /\b(month|mes)\b/.test(lower) && !/\b(next|proximo|que viene)\b/.test(lower)) continue;
    if (precision === 'day' && /\b(next month|last month)\b/.test(lower)) precision = 'month';
    out.push({
      index: r.index, text: r.text, year: s.get('year')!, month: s.get('month')!, day: s.get('day')!, precision,
      ...(hourKnown ? { hour: s.get('hour')!, minute: s.get('minute') ?? 0 } : {}), meridiemKnown: s.isCertain('meridiem'),
    });
  }
  out.push(...extraMentions(text, ref, out));
  return out.sort((a, b) => a.index - b.index);
}

/** What chrono does not read: "the 1st", "first of the month", "el mes que viene", "el proximo mes". */
function extraMentions(text: string, ref: SentAt, found: Mention[]): Mention[] {
  const out: Mention[] = [];
  const covered = (i: number, len: number) => found.some((f) => i < f.index + f.text.length && f.index < i + len);
  const FIRST = /\b(?:the\s+(?:1st|first)(?:\s+of\s+(?:the|next)\s+month)?|(?:1st|first)\s+of\s+(?:the|next)\s+month)\b(?!\s+(?:floor|time|week|step|month|year|thing|one|payment|of\s+(?!the\b|next\b)))/gi;
  for (const m of text.matchAll(FIRST)) {
    if (covered(m.index, m[0].length)) continue;
    const [y, mo] = ref.day === 1 && !/next/i.test(m[0]) ? [ref.year, ref.month] : nextMonth(ref);
    out.push({ index: m.index, text: m[0], year: y, month: mo, day: 1, precision: 'day', meridiemKnown: false });
  }
  for (const m of text.matchAll(/\b(el\s+)?(proximo|pr[oó]ximo)\s+mes\b|\bel\s+mes\s+que\s+viene\b/gi)) {
    if (covered(m.index, m[0].length)) continue;
    const [y, mo] = nextMonth(ref);
    out.push({ index: m.index, text: m[0], year: y, month: mo, day: 1, precision: 'month', meridiemKnown: false });
  }
  return out;
}
