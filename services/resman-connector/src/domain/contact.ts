// What the connector may push to ResMan about a person: never placeholder values (RESMAN.md: operators
// have lost real residents' details to integrations that pushed none@none.com or 000-000-0000).

const PLACEHOLDER_EMAIL_LOCALS = new Set(['none', 'noemail', 'no-email', 'no.email', 'noreply', 'no-reply', 'donotreply', 'na', 'n/a', 'null', 'unknown']);
const PLACEHOLDER_EMAIL_DOMAINS = new Set(['none.com', 'noemail.com', 'email.com', 'test.com', 'na.com']);

export function isPlaceholderEmail(email: string): boolean {
  const value = email.trim().toLowerCase();
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return true;
  return PLACEHOLDER_EMAIL_LOCALS.has(value.slice(0, at)) || PLACEHOLDER_EMAIL_DOMAINS.has(value.slice(at + 1));
}

/** The national number ResMan searches and stores ("4155550100" for +1 415 555 0100), or null for a placeholder. */
export function resmanPhone(phone: string): string | null {
  let digits = phone.replace(/\D/g, '');
  if (digits.length === 11 && digits.startsWith('1')) digits = digits.slice(1);
  if (digits.length < 7 || digits.length > 15) return null;
  // All zeros or one digit repeated: a filler, not a number.
  if (/^(\d)\1+$/.test(digits)) return null;
  return digits;
}

export interface PersonContact {
  firstName: string;
  lastName: string | null;
  email: string | null;
  phone: string | null;
}

// ResMan needs a name on a new guest card; a customer known only by a channel id gets this one.
export const UNKNOWN_FIRST_NAME = 'Unknown';

/** The customer as ResMan may see it: name split in two, the first real email and phone, placeholders dropped. */
export function personContact(customer: { name: string; emails: string[]; phoneNumbers: string[] }): PersonContact {
  const name = customer.name.trim().replace(/\s+/g, ' ');
  const space = name.indexOf(' ');
  const firstName = name === '' ? UNKNOWN_FIRST_NAME : space < 0 ? name : name.slice(0, space);
  const lastName = space < 0 ? null : name.slice(space + 1);
  const email = customer.emails.map((e) => e.trim()).find((e) => e !== '' && !isPlaceholderEmail(e)) ?? null;
  const phone = customer.phoneNumbers.map(resmanPhone).find((p) => p !== null) ?? null;
  return { firstName, lastName, email, phone };
}
