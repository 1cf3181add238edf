import { PoisonMessageError } from './consumer.ts';
import { UnknownVocabularyValueError, type Vocabulary } from '@domiq/proto/vocabulary';

// Checks on a consumed payload: a field that can never be right makes the message poison (dead-lettered
// with this reason at once) rather than a retry.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function eventUuid(value: string | undefined, field: string): string {
  if (!value || !UUID.test(value)) throw new PoisonMessageError(`${field} is not a UUID: "${value ?? ''}"`);
  return value.toLowerCase();
}

export function optionalEventUuid(value: string | undefined, field: string): string | null {
  return value ? eventUuid(value, field) : null;
}

export function eventTimestamp(value: string | undefined, field: string, fallback?: Date): Date {
  if (!value && fallback) return fallback;
  const date = new Date(value ?? '');
  if (!value || Number.isNaN(date.getTime())) throw new PoisonMessageError(`${field} is not a timestamp: "${value ?? ''}"`);
  return date;
}

/** A shared-vocabulary enum in a payload (channel, severity, ...): UNSPECIFIED or an unknown value is poison. */
export function eventEnum<V extends string, E extends string>(vocabulary: Vocabulary<V, E>, value: E, field: string): V;
export function eventEnum<V extends string, E extends string, F>(vocabulary: Vocabulary<V, E>, value: E, field: string, fallback: F): V | F;
export function eventEnum<V extends string, E extends string, F>(vocabulary: Vocabulary<V, E>, value: E, field: string, ...fallback: [F] | []): V | F {
  try {
    return fallback.length ? vocabulary.fromProtoOr(value, field, fallback[0]) : vocabulary.fromProto(value, field);
  } catch (err) {
    if (err instanceof UnknownVocabularyValueError) throw new PoisonMessageError(err.message);
    throw err;
  }
}
