import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  Metadata, Server, ServerCredentials, ServerInterceptingCall, status, type handleUnaryCall, type ServerInterceptor, type ServerUnaryCall,
  type ServiceDefinition, type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import type { TokenVerifier } from '@domiq/auth';
import type { Logger } from '@domiq/logging';
import { services as registryServices } from '@domiq/proto/services';
import { checkAccess, type Access, type AccessGrant, type AccessTable } from './access.ts';
import { toServiceError } from './errors.ts';

/** What a handler knows besides its request: who called, for which account, limited to which properties. */
export interface CallContext extends AccessGrant {
  call: ServerUnaryCall<unknown, unknown>;
}

export type Handler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;
export type Handlers<S> = {
  // `string extends K` drops grpc-js's index signature so only the service's own methods remain.
  [K in keyof S as string extends K ? never : K]: S[K] extends handleUnaryCall<infer Req, infer Res> ? Handler<Req, Res> : never;
};

export interface GrpcService {
  /** Fully qualified name, e.g. `domiq.identity.v1.IdentityService` (health status key). */
  name: string;
  definition: ServiceDefinition;
  /** Who may call each method (by the definition's method key). */
  access: Record<string, Access>;
  handlers: Record<string, Handler<any, any>>;
}

/**
 * A service's gRPC face: the generated definition, one access rule per method (see `Access`) and the handlers.
 * The server authenticates and applies the access rule before a handler runs, so a handler never sees a caller
 * it does not admit.
 */
export function defineGrpcService<S>(opts: { name: string; definition: ServiceDefinition; access: AccessTable<S>; handlers: Handlers<S> }): GrpcService {
  return { name: opts.name, definition: opts.definition, access: opts.access as Record<string, Access>, handlers: opts.handlers as Record<string, Handler<any, any>> };
}

/** `authorization` metadata of a call, as one string (or undefined). */
export function authorizationOf(metadata: Metadata): string | undefined {
  const v = metadata.get('authorization')[0];
  return v === undefined ? undefined : v.toString();
}

/**
 * Why a method's access rule cannot stand: it admits nobody, or a service the registry does not say calls this one
 * (least privilege: a service is admitted only where it really calls). Empty when the rule is sound.
 */
export function accessRuleProblems(grpcService: string, path: string, access: Access | undefined): string[] {
  if (!access || (access.roles.length === 0 && !access.services?.length)) return [`${path} declares no roles or services`];
  const callee = registryServices.find((s) => s.grpcService === grpcService)?.name;
  return (access.services ?? [])
    .filter((caller) => !callee || !registryServices.find((s) => s.name === caller)?.calls.includes(callee))
    .map((caller) => `${path} admits service:${caller}, which the registry does not list as calling ${callee ?? grpcService}`);
}

function guarded(service: GrpcService, verifier: TokenVerifier, logger: Logger): UntypedServiceImplementation {
  const out: Record<string, handleUnaryCall<unknown, unknown>> = {};
  for (const [key, method] of Object.entries(service.definition)) {
    const access = service.access[key];
    const handler = service.handlers[key];
    // A method without a sound rule or a handler must not start: it would be open, too open, or dead.
    const problems = accessRuleProblems(service.name, method.path, access);
    if (problems.length) throw new Error(problems.join('; '));
    if (!handler || !access) throw new Error(`${method.path} has no handler`);
    out[key] = (call, callback) => {
      (async () => {
        const caller = await verifier.verifyAuthorization(authorizationOf(call.metadata));
        const grant = checkAccess(method.path, access, caller, call.request);
        return handler(call.request, { ...grant, call });
      })().then(
        (res) => callback(null, res),
        (err: unknown) => {
          const { error, internal } = toServiceError(err);
          if (internal) logger.error({ err, method: method.path }, 'grpc handler failed');
          else if (error.code === status.UNAUTHENTICATED || error.code === status.PERMISSION_DENIED) {
            logger.warn({ method: method.path, code: status[error.code], reason: error.details }, 'grpc call refused');
          }
          callback(error, null);
        },
      );
    };
  }
  return out;
}

/** Reflection outside development admits the same callers as any other method: a valid token of an admin or engineer. */
function reflectionGuard(verifier: TokenVerifier): ServerInterceptor {
  return (descriptor, call) => {
    if (!descriptor.path.startsWith('/grpc.reflection.')) return new ServerInterceptingCall(call);
    return new ServerInterceptingCall(call, {
      start: (next) => next({
        onReceiveMetadata: (metadata, mdNext) => {
          verifier.verifyAuthorization(authorizationOf(metadata)).then((caller) => {
            if (caller.kind === 'service' || caller.role === 'admin' || caller.role === 'engineer') mdNext(metadata);
            else call.sendStatus({ code: status.PERMISSION_DENIED, details: `role ${caller.role} may not use reflection`, metadata: new Metadata() });
          }, (err: Error) => call.sendStatus({ code: status.UNAUTHENTICATED, details: err.message, metadata: new Metadata() }));
        },
      }),
    });
  };
}

export interface RunningGrpcServer {
  port: number;
  health: HealthImplementation;
  stop(graceMs: number): Promise<void>;
}

export interface GrpcServerOptions {
  host: string;
  port: number;
  services: GrpcService[];
  logger: Logger;
  verifier: TokenVerifier;
  /** `open` (development only), `authenticated`, or `off`. */
  reflection: 'open' | 'authenticated' | 'off';
}

const require = createRequire(import.meta.url);
let descriptors: Buffer | undefined;

export async function startGrpcServer(opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  const interceptors = opts.reflection === 'authenticated' ? [reflectionGuard(opts.verifier)] : [];
  const server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024, interceptors });
  for (const s of opts.services) server.addService(s.definition, guarded(s, opts.verifier, opts.logger));
  // Health stays open: probes carry no token, and it reveals nothing but SERVING / NOT_SERVING.
  const health = new HealthImplementation(Object.fromEntries([['', 'SERVING'], ...opts.services.map((s) => [s.name, 'SERVING'])]));
  health.addToServer(server);
  if (opts.reflection !== 'off') {
    // Reflection reads the committed buf image; the services themselves use only the generated code.
    descriptors ??= readFileSync(require.resolve('@domiq/proto/descriptors'));
    new ReflectionService(loadFileDescriptorSetFromBuffer(descriptors)).addToServer(server);
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${opts.host}:${opts.port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  opts.logger.info({ port, reflection: opts.reflection }, 'grpc server listening');
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
