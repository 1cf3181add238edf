import { credentials, Metadata, type CallOptions, type Client, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';

type UnaryMethod<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: (err: ServiceError | null, res: Res) => void) => ClientUnaryCall;

export interface CallOpts {
  timeoutMs?: number;
  metadata?: Metadata;
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

export function createClient<C extends Client>(
  Ctor: new (address: string, creds: ReturnType<typeof credentials.createInsecure>, options?: object) => C,
  address: string,
  defaultTimeoutMs = 5000,
): { raw: C; client: PromiseClient<C>; close(): void } {
  const raw = new Ctor(address, credentials.createInsecure(), { 'grpc.service_config': serviceConfig, 'grpc.enable_retries': 1 });
  const client = new Proxy({} as PromiseClient<C>, {
    get(_t, prop: string) {
      const method = (raw as unknown as Record<string, UnaryMethod<unknown, unknown>>)[prop];
      if (typeof method !== 'function') return undefined;
      return (request: unknown, opts: CallOpts = {}) =>
        new Promise((resolve, reject) => {
          const deadline = new Date(Date.now() + (opts.timeoutMs ?? defaultTimeoutMs));
          method.call(raw, request, opts.metadata ?? new Metadata(), { deadline }, (err, res) => (err ? reject(err) : resolve(res)));
        });
    },
  });
  return { raw, client, close: () => raw.close() };
}
