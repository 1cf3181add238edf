import { credentials, Metadata, type CallOptions, type Client, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';

type UnaryMethod<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: (err: ServiceError | null, res: Res) => void) => ClientUnaryCall;

/** The bearer token to send: a fixed string, or a function (a service's token file is re-read when renewed). */
export type TokenProvider = string | (() => string);

export interface CallOpts {
  timeoutMs?: number;
  metadata?: Metadata;
  /** Overrides the client's token for this call. */
  token?: TokenProvider;
}

export interface ClientOptions {
  /** Sent as `authorization: Bearer <token>` on every call. */
  token?: TokenProvider;
  defaultTimeoutMs?: number;
}

/** The generated client's unary methods as promises, each with a deadline. */
export type PromiseClient<C> = {
  [K in keyof C as C[K] extends UnaryMethod<any, any> ? K : never]: C[K] extends UnaryMethod<infer Req, infer Res>
    ? (request: Req, opts?: CallOpts) => Promise<Res>
    : never;
};

// Transient UNAVAILABLE (a peer restarting) is retried by grpc-js itself, with backoff. round_robin spreads
// calls over every address a name resolves to (`dns:///` + a headless Service), not one long-lived connection.
const serviceConfig = JSON.stringify({
  loadBalancingConfig: [{ round_robin: {} }],
  methodConfig: [{
    name: [{}],
    retryPolicy: { maxAttempts: 5, initialBackoff: '0.1s', maxBackoff: '2s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] },
  }],
});

const resolveToken = (t: TokenProvider | undefined) => (typeof t === 'function' ? t() : t);

export function createClient<C extends Client>(
  Ctor: new (address: string, creds: ReturnType<typeof credentials.createInsecure>, options?: object) => C,
  address: string,
  options: ClientOptions = {},
): { raw: C; client: PromiseClient<C>; close(): void } {
  const raw = new Ctor(address, credentials.createInsecure(), {
    'grpc.service_config': serviceConfig, 'grpc.enable_retries': 1,
    // A peer that restarted (a rolling update, a crash) is reached again within a second: grpc-js's default reconnect
    // backoff grows to two minutes, far longer than the retries above wait, so the first calls after a restart failed.
    'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 1000,
  });
  const client = new Proxy({} as PromiseClient<C>, {
    get(_t, prop: string) {
      const method = (raw as unknown as Record<string, UnaryMethod<unknown, unknown>>)[prop];
      if (typeof method !== 'function') return undefined;
      return (request: unknown, opts: CallOpts = {}) =>
        new Promise((resolve, reject) => {
          const deadline = new Date(Date.now() + (opts.timeoutMs ?? options.defaultTimeoutMs ?? 5000));
          const metadata = opts.metadata?.clone() ?? new Metadata();
          const token = resolveToken(opts.token ?? options.token);
          if (token) metadata.set('authorization', `Bearer ${token}`);
          method.call(raw, request, metadata, { deadline }, (err, res) => (err ? reject(err) : resolve(res)));
        });
    },
  });
  return { raw, client, close: () => raw.close() };
}
