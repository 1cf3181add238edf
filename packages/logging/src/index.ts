import { trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

// Keys that carry secrets anywhere near the top of a log object; pino redacts by path.
const SECRET_KEYS = ['password', 'apiKey', 'api_key', 'ApiKey', 'authToken', 'auth_token', 'token', 'secret',
  'authorization', 'Authorization', 'credentials', 'encryptionKey', 'x-twilio-signature'];
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `req.headers.${k.toLowerCase()}`]);

/** JSON logs with the active trace and span ids on every line and secrets redacted. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name: service,
    level,
    base: { service },
    redact: { paths: [...new Set(REDACT_PATHS)], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const ctx = trace.getActiveSpan()?.spanContext();
      return ctx ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
