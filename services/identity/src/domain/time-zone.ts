let zones: ReadonlySet<string> | undefined;

/** An IANA time zone name the runtime knows (a property's business hours are computed in it). */
export function isTimeZone(value: string): boolean {
  // Built once: the list has some 400 names. 'UTC' is accepted even where the runtime lists only 'Etc/UTC'.
  zones ??= new Set(Intl.supportedValuesOf('timeZone'));
  return value === 'UTC' || zones.has(value);
}
