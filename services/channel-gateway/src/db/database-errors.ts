// Telling a failure of the database itself from a failure of what was written.

/** Node's socket errors: the database could not be reached or the connection broke. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * True when the error says the database is unavailable rather than that a statement's data was refused: no
 * connection (a socket error, the pool's connect timeout, a connection ended), or PostgreSQL's own classes for it
 * (08 connection exception but for 08P01, 53 insufficient resources, 57P admin shutdown / crash / cannot connect now). Such an
 * error is nobody's input: retrying the same work in smaller pieces cannot help. MikroORM's DriverException keeps the
 * driver's `code` (the SQLSTATE, or Node's error code).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  // 08P01 (protocol violation) is the exception in class 08: it is what a NUL character in a bound value gets.
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || (/^(08|53|57P)/.test(code) && code !== '08P01'))) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(err.message);
}
