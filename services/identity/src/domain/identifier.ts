import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

export const IDENTIFIER_KINDS = ['phone', 'email', 'social', 'device'] as const;
export type IdentifierKind = (typeof IDENTIFIER_KINDS)[number];

export class InvalidIdentifierError extends Error {
  override name = 'InvalidIdentifierError';
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The one email address check (a customer's identifier, a user's login). */
export function isEmailAddress(value: string): boolean {
  return EMAIL.test(value);
}

/**
 * E.164 for phones (so "+1 (415) 555-0100" and "4155550100" are one customer), lower-case for emails; social ids and
 * device fingerprints as given (trimmed).
 */
export function normaliseIdentifier(kind: IdentifierKind, raw: string, defaultRegion = 'US'): string {
  const value = raw.trim();
  if (!value) throw new InvalidIdentifierError('value is empty');
  switch (kind) {
    case 'phone': {
      const parsed = parsePhoneNumberFromString(value, defaultRegion.toUpperCase() as CountryCode);
      if (!parsed || !parsed.isPossible()) throw new InvalidIdentifierError(`not a phone number: ${value}`);
      return parsed.number;
    }
    case 'email': {
      if (!isEmailAddress(value)) throw new InvalidIdentifierError(`not an email address: ${value}`);
      return value.toLowerCase();
    }
    case 'social':
    case 'device':
      return value;
  }
}
