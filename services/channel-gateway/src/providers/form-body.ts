/**
 * application/x-www-form-urlencoded bodies (Twilio's webhooks; most SMS providers' too), UTF-8. Parsing is strict
 * (a malformed percent escape or invalid UTF-8 is an error, not a silently mangled field) because the exact fields
 * are what a signature covers and what we keep as the raw record.
 */
import { InvalidInboundError } from './provider.ts';

export type FormParams = Record<string, string | string[]>;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeComponent(s: string): string {
  // Most components (ids, numbers, E.164 addresses) have nothing to decode.
  if (!s.includes('%') && !s.includes('+')) return s;
  try {
    return decodeURIComponent(s.replaceAll('+', ' '));
  } catch {
    throw new InvalidInboundError('body is not valid form encoding');
  }
}

/** Parses a form body; a name that repeats becomes an array (Twilio signs each value, sorted). */
export function parseFormBody(body: Uint8Array): FormParams {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new InvalidInboundError('body is not valid UTF-8');
  }
  const params: FormParams = Object.create(null) as FormParams;
  for (const pair of text.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decodeComponent(pair.slice(eq + 1));
    if (!name) throw new InvalidInboundError('body has a field without a name');
    // PostgreSQL can store U+0000 neither in text nor in jsonb (the raw record): refused here, with the field, rather
    // than failing the insert (a 500 the provider would retry for ever).
    if (name.includes('\u0000')) throw new InvalidInboundError('body has a field name with a NUL character (U+0000)');
    if (value.includes('\u0000')) throw new InvalidInboundError('must not contain a NUL character (U+0000)', name);
    const existing = params[name];
    if (existing === undefined) params[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else params[name] = [existing, value];
  }
  return { ...params };
}

/** A field that must appear at most once. */
export function singleField(params: FormParams, field: string): string | undefined {
  const value = params[field];
  if (Array.isArray(value)) throw new InvalidInboundError('must appear once', field);
  return value;
}

/** A field that must appear once, not blank, trimmed, at most `maxLength` characters. */
export function requiredField(params: FormParams, field: string, maxLength: number): string {
  const value = singleField(params, field)?.trim();
  if (!value) throw new InvalidInboundError('is required', field);
  if (value.length > maxLength) throw new InvalidInboundError(`must be at most ${maxLength} characters`, field);
  return value;
}
