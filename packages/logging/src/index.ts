import { trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

// Secrets are redacted by key, at any depth, before pino serializes a line (formatters.log and .bindings).
// pino's own path-based `redact` is not used: its wildcard stands for exactly one level, and every wildcard path
// costs time on every line (200 paths made a log call ~100x slower). A key is secret when, lower-cased and without
// '-' and '_', it is one of SECRET_KEYS or ends with one of SECRET_SUFFIXES: `authorization` headers and gRPC
// metadata, `x-twilio-signature`, `token`, `authToken`, `apiKey`/`api_key`, `password`, `seed`, `credentials`,
// `credentialsEncrypted` and every other `*Encrypted` field. Booleans, null and undefined are left as they are
// (`hasCredentials: true` tells nothing); anything else under such a key becomes CENSOR.
export const CENSOR = '[redacted]';
const SECRET_KEYS = new Set(['authorization', 'proxyauthorization', 'cookie', 'setcookie', 'jwt', 'bearer', 'nkey']);
const SECRET_SUFFIXES = ['password', 'passphrase', 'secret', 'token', 'apikey', 'privatekey', 'encryptionkey', 'secretkey', 'signingkey',
  'seed', 'credentials', 'encrypted', 'signature'];
/**
 * pino resets the bindings formatter for child loggers, so a child's bindings (`logger.child({ token })`) are
 * covered by pino's own redaction instead, for the usual top-level keys (top-level paths cost next to nothing).
 */
const CHILD_BINDING_PATHS = ['authorization', 'token', 'authToken', 'auth_token', 'apiKey', 'api_key', 'password', 'secret', 'seed',
  'credentials', 'credentialsEncrypted', 'cookie', 'jwt'];
/** How deep objects are searched (deeper values are left to the serializer as they are). */
export const REDACT_MAX_DEPTH = 12;

export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  return SECRET_KEYS.has(k) || SECRET_SUFFIXES.some((suffix) => k.endsWith(suffix));
}

function censorValue(value: unknown): unknown {
  return value === null || value === undefined || typeof value === 'boolean' ? value : CENSOR;
}

/**
 * `value` with every secret-keyed field censored, at any depth. Copy-on-write: objects without secrets are
 * returned as they are (the caller's objects are never modified), and an Error keeps its prototype, message
 * and stack so pino's error serializer still sees an error.
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object' || depth > REDACT_MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const redacted = redactSecrets(value[i], depth + 1);
      if (redacted !== value[i]) (out ??= value.slice())[i] = redacted;
    }
    return (out ?? value) as T;
  }
  // Values that serialize themselves (Date, Buffer, SecretBox...) or hold no enumerable fields worth walking.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function' || ArrayBuffer.isView(value) || value instanceof Map || value instanceof Set) return value;
  const source = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(source)) {
    const current = source[key];
    const redacted = isSecretKey(key) ? censorValue(current) : redactSecrets(current, depth + 1);
    if (redacted === current) continue;
    if (!out) {
      if (value instanceof Error) {
        out = Object.assign(Object.create(Object.getPrototypeOf(value) as object) as Record<string, unknown>, source);
        for (const own of ['message', 'stack', 'cause'] as const) {
          if (own in value) Object.defineProperty(out, own, { value: (value as unknown as Record<string, unknown>)[own], enumerable: false, writable: true, configurable: true });
        }
      } else {
        out = { ...source };
      }
    }
    out[key] = redacted;
  }
  return (out ?? value) as T;
}

/** JSON logs with the active trace and span ids on every line and secrets redacted. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name: service,
    level,
    base: { service },
    redact: { paths: CHILD_BINDING_PATHS, censor: CENSOR },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      bindings: (bindings) => redactSecrets(bindings),
      log: (object) => redactSecrets(object),
    },
    mixin() {
      const ctx = trace.getActiveSpan()?.spanContext();
      return ctx ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
