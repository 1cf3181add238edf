import { isUuid } from '@domiq/auth';
import { InvalidArgumentError } from './errors.ts';

export { isUuid };

/** A required proto3 string field (empty means missing in proto3). */
export function requireString(value: string | undefined, field: string, maxLength = 1000): string {
  const v = (value ?? '').trim();
  if (!v) throw new InvalidArgumentError(field, 'is required');
  if (v.length > maxLength) throw new InvalidArgumentError(field, `must be at most ${maxLength} characters`);
  return v;
}

export function requireUuid(value: string | undefined, field: string): string {
  const v = requireString(value, field, 36);
  if (!isUuid(v)) throw new InvalidArgumentError(field, 'must be a UUID');
  return v.toLowerCase();
}

export function optionalUuid(value: string | undefined, field: string): string | null {
  return value ? requireUuid(value, field) : null;
}

export function requireOneOf<T extends string>(value: string | undefined, field: string, allowed: readonly T[], fallback?: T): T {
  if (!value && fallback !== undefined) return fallback;
  if (!allowed.includes(value as T)) throw new InvalidArgumentError(field, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

export function requirePositiveInt(value: number | undefined, field: string, fallback?: number): number {
  if ((value === undefined || value === 0) && fallback !== undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) <= 0) throw new InvalidArgumentError(field, 'must be a positive integer');
  return value as number;
}
