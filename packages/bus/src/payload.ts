import { PoisonMessageError } from './consumer.ts';

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
