import { describe, expect, it } from 'vitest';
import { identifierStrength, strongestCustomer } from '../src/domain/identifier-strength.ts';

const at = (iso: string) => new Date(iso);

describe('strongestCustomer', () => {
  it('answers the holder of the phone over the holder of the email, social id or device', () => {
    const byEmail = { id: 'b', firstSeenAt: at('2024-01-01'), identifiers: [{ kind: 'email' as const, isVerified: false }] };
    const byPhone = { id: 'c', firstSeenAt: at('2025-01-01'), identifiers: [{ kind: 'phone' as const, isVerified: false }] };
    const byDevice = { id: 'a', firstSeenAt: at('2020-01-01'), identifiers: [{ kind: 'device' as const, isVerified: false }] };
    expect(strongestCustomer([byEmail, byDevice, byPhone]).id).toBe('c');
  });

  it('lets a verified identifier beat any unverified one', () => {
    const verifiedEmail = { id: 'b', firstSeenAt: at('2025-01-01'), identifiers: [{ kind: 'email' as const, isVerified: true }] };
    const phone = { id: 'a', firstSeenAt: at('2024-01-01'), identifiers: [{ kind: 'phone' as const, isVerified: false }] };
    expect(strongestCustomer([phone, verifiedEmail]).id).toBe('b');
    expect(identifierStrength({ kind: 'device', isVerified: true })).toBeLessThan(identifierStrength({ kind: 'phone', isVerified: false }));
  });

  it('breaks a tie by who was seen first, then by id, whatever the order given', () => {
    const older = { id: 'z', firstSeenAt: at('2023-01-01'), identifiers: [{ kind: 'phone' as const, isVerified: false }] };
    const newer = { id: 'a', firstSeenAt: at('2024-01-01'), identifiers: [{ kind: 'phone' as const, isVerified: false }] };
    expect(strongestCustomer([newer, older]).id).toBe('z');
    const twin = { ...older, id: 'y' };
    expect(strongestCustomer([older, twin]).id).toBe('y');
    expect(strongestCustomer([twin, older]).id).toBe('y');
  });
});
