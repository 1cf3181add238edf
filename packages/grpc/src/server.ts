import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Server, ServerCredentials, type handleUnaryCall, type ServiceDefinition, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import type { Logger } from '@domiq/logging';
import { toServiceError } from './errors.ts';

export type AsyncUnary<Req, Res> = (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>;
export type AsyncImplementation<S> = {
  // `string extends K` drops grpc-js's index signature so only the service's own methods remain.
  [K in keyof S as string extends K ? never : K]: S[K] extends handleUnaryCall<infer Req, infer Res> ? AsyncUnary<Req, Res> : never;
};

/**
 * Adapts async handlers to grpc-js callbacks: thrown domain errors become their status codes
 * (INVALID_ARGUMENT names the field), unknown errors are logged and answered INTERNAL.
 */
export function implement<S extends UntypedServiceImplementation>(impl: AsyncImplementation<S>, logger: Logger): S {
  const out: Record<string, handleUnaryCall<unknown, unknown>> = {};
  for (const [name, fn] of Object.entries(impl as Record<string, AsyncUnary<unknown, unknown>>)) {
    out[name] = (call, callback) => {
      fn(call.request, call).then(
        (res) => callback(null, res),
        (err: unknown) => {
          const { error, internal } = toServiceError(err);
          if (internal) logger.error({ err, method: name }, 'grpc handler failed');
          callback(error, null);
        },
      );
    };
  }
  return out as S;
}

export interface GrpcService {
  /** Fully qualified name, e.g. `domiq.identity.v1.IdentityService` (health status key). */
  name: string;
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

export interface RunningGrpcServer {
  port: number;
  health: HealthImplementation;
  stop(graceMs: number): Promise<void>;
}

const require = createRequire(import.meta.url);
let descriptors: Buffer | undefined;

export async function startGrpcServer(opts: { host: string; port: number; services: GrpcService[]; logger: Logger }): Promise<RunningGrpcServer> {
  const server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  for (const s of opts.services) server.addService(s.definition, s.implementation);
  const health = new HealthImplementation(Object.fromEntries([['', 'SERVING'], ...opts.services.map((s) => [s.name, 'SERVING'])]));
  health.addToServer(server);
  // Reflection reads the committed buf image; the services themselves use only the generated code.
  descriptors ??= readFileSync(require.resolve('@domiq/proto/descriptors'));
  new ReflectionService(loadFileDescriptorSetFromBuffer(descriptors)).addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${opts.host}:${opts.port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  opts.logger.info({ port }, 'grpc server listening');
  return {
    port,
    health,
    stop: (graceMs) =>
      new Promise<void>((resolve) => {
        for (const s of opts.services) health.setStatus(s.name, 'NOT_SERVING');
        health.setStatus('', 'NOT_SERVING');
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
