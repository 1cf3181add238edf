// Telling which constraint refused a write.

/** A unique violation (SQLSTATE 23505) of the partial index on replies' idempotency keys. */
export function isIdempotencyKeyConflict(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const { code, constraint } = err as { code?: unknown; constraint?: unknown };
  return code === '23505' && (constraint === 'uq_messages_idempotency_key' || err.message.includes('uq_messages_idempotency_key'));
}
