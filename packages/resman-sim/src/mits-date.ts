// ResMan/MITS timestamps arrive with or without a zone and with up to 7 fraction digits (.NET ticks).

const ISO_LIKE = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

// A stamp without a zone is read as UTC, as ResMan documents for appointment times.
export function parseMitsDate(value: string | undefined | null): Date | null {
  if (value === undefined || value === null) return null;
  const match = ISO_LIKE.exec(value.trim());
  if (!match) return null;
  const [, day, time, fraction, zone] = match;
  const clock = time === undefined ? '00:00:00' : time.length === 5 ? `${time}:00` : time;
  const millis = (fraction ?? '').padEnd(3, '0').slice(0, 3);
  const offset = zone === undefined || zone.toUpperCase() === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const parsed = new Date(`${day}T${clock}.${millis}${offset}`);
  return Number.isNaN(parsed.getTime()) ? null : parsed;
}
