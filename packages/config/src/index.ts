import { z } from 'zod';

export { z };

/** Thrown when the environment does not satisfy a service's schema; the message names every bad variable. */
export class ConfigError extends Error {
  readonly variables: string[];
  constructor(issues: Array<{ variable: string; problem: string }>) {
    super(`invalid configuration: ${issues.map((i) => `${i.variable}: ${i.problem}`).join('; ')}`);
    this.name = 'ConfigError';
    this.variables = issues.map((i) => i.variable);
  }
}

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
export const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol.replace(/:$/, ''));
    } catch {
      return false;
    }
  }, `must be a ${protocols.join(' or ')} URL`);

/** A peer's gRPC address (`host:port` or a `dns:///` target). */
export const grpcAddress = (fallback: string) => z.string().min(1).default(fallback);

/** A 32-byte key, base64-encoded (AES-256); `fallback` is for local development only. */
export const base64Key32 = (fallback: string) =>
  z.string().default(fallback).refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded');

/** Variables every service reads. */
export const baseConfigShape = {
  DATABASE_URL: url(['postgres', 'postgresql']).default('postgres://postgres@127.0.0.1:5432/domiq'),
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
  /** Connections per process; mind PostgreSQL's max_connections across services x replicas. */
  DB_POOL_MAX: z.coerce.number().int().min(2).max(200).default(10),
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  CONSUMER_MAX_DELIVER: z.coerce.number().int().min(2).max(100).default(6),
  /** How long a slow handler may keep its message with working(); after it, ack_wait runs out and it is redelivered. */
  CONSUMER_MAX_WORKING_MS: z.coerce.number().int().min(1000).default(300_000),
  /** How long JetStream waits for an ack before redelivering (a crashed consumer's messages come back after this). */
  CONSUMER_ACK_WAIT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  /** PostgreSQL session timeouts of every pooled connection, in ms (0: off). */
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
  DB_LOCK_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(0).default(60_000),
  /** The service's NATS nkey seed (`SU...`); unset: connect without credentials (an unauthenticated NATS). */
  NATS_NKEY_SEED: z.string().optional().refine((v) => !v || /^SU[A-Z2-7]{56}$/.test(v.trim()), 'must be an nkey user seed (SU...)'),
  /** A file holding the seed (e.g. a mounted Secret); wins over NATS_NKEY_SEED when both are set. */
  NATS_NKEY_SEED_FILE: z.string().optional(),
  /** `production` refuses development keys and reflection (see @domiq/runtime production settings). */
  DOMIQ_ENV: z.enum(['development', 'test', 'staging', 'production']).default('development'),
  /** gRPC server reflection: open in development, token-guarded elsewhere, refused in production. */
  GRPC_REFLECTION: z.enum(['true', 'false']).optional().transform((v) => (v === undefined ? undefined : v === 'true')),
  /** The key set gRPC tokens are verified against: a JWKS file path or an https URL (development: generated keys). */
  DOMIQ_JWKS: z.string().min(1).optional(),
  DOMIQ_TOKEN_ISSUER: z.string().min(1).default('domiq'),
  DOMIQ_TOKEN_AUDIENCE: z.string().min(1).default('domiq'),
  /** This service's own token for calling its peers (a file, re-read when renewed; or the value). */
  DOMIQ_SERVICE_TOKEN_FILE: z.string().min(1).optional(),
  DOMIQ_SERVICE_TOKEN: z.string().min(1).optional(),
};

export function loadConfig<S extends z.ZodRawShape>(shape: S, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      variable: String(issue.path[0] ?? '?'),
      problem: issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message,
    })),
  );
}
