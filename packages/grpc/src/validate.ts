import { isUuid } from '@domiq/auth';
import { InvalidArgumentError } from './errors.ts';
import { UnknownVocabularyValueError, type Vocabulary } from '@domiq/proto/vocabulary';

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

/** A shared-vocabulary enum in a request (channel, severity, ...): UNSPECIFIED gives `fallback`, or is refused without one. */
export function requireEnum<V extends string, E extends string>(vocabulary: Vocabulary<V, E>, value: E, field: string, fallback?: V): V {
  try {
    return fallback !== undefined ? vocabulary.fromProtoOr(value, field, fallback) : vocabulary.fromProto(value, field);
  } catch (err) {
    if (err instanceof UnknownVocabularyValueError) throw new InvalidArgumentError(err.field, err.problem);
    throw err;
  }
}

export function requirePositiveInt(value: number | undefined, field: string, fallback?: number): number {
  if ((value === undefined || value === 0) && fallback !== undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) <= 0) throw new InvalidArgumentError(field, 'must be a positive integer');
  return value as number;
}
