import { describe, expect, it } from 'vitest';
import { InvalidIdentifierError, isEmailAddress, normaliseIdentifier } from '../src/domain/identifier.ts';

describe('normaliseIdentifier', () => {
  it('makes differently formatted phone numbers one E.164 number', () => {
    expect(normaliseIdentifier('phone', '+1 (415) 555-0100')).toBe('+14155550100');
    expect(normaliseIdentifier('phone', '415.555.0100')).toBe('+14155550100');
    expect(normaliseIdentifier('phone', '020 7946 0958', 'gb')).toBe('+442079460958');
  });
  it('lower-cases emails and keeps social ids and device fingerprints as they are', () => {
    expect(normaliseIdentifier('email', '  Jane.Doe@Example.COM ')).toBe('jane.doe@example.com');
    expect(normaliseIdentifier('social', ' Jane_Doe ')).toBe('Jane_Doe');
    expect(normaliseIdentifier('device', ' fp_9F3a ')).toBe('fp_9F3a');
  });
  it('refuses what is not a phone number, an email address, or anything at all', () => {
    expect(() => normaliseIdentifier('phone', 'not a phone')).toThrow(InvalidIdentifierError);
    expect(() => normaliseIdentifier('email', 'jane@localhost')).toThrow(InvalidIdentifierError);
    expect(() => normaliseIdentifier('social', '   ')).toThrow(InvalidIdentifierError);
  });
});

describe('isEmailAddress', () => {
  it('wants a local part, an @ and a dotted domain, without spaces', () => {
    expect(isEmailAddress('agent@acme.example')).toBe(true);
    for (const bad of ['agent', 'agent@acme', '@acme.example', 'a gent@acme.example', 'agent@@acme.example']) expect(isEmailAddress(bad)).toBe(false);
  });
});
