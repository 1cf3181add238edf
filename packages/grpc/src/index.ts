export { defineGrpcService, startGrpcServer, accessRuleProblems, authorizationOf, type CallContext, type Handler, type Handlers, type GrpcService, type GrpcServerOptions, type RunningGrpcServer } from './server.ts';
export { checkAccess, readField, type Access, type AccessTable, type AccessGrant } from './access.ts';
export { createClient, type PromiseClient, type CallOpts, type ClientOptions, type TokenProvider } from './client.ts';
export { InvalidArgumentError, NotFoundError, AlreadyExistsError, FailedPreconditionError, UnavailableError, toServiceError } from './errors.ts';
export { requireString, requireUuid, optionalUuid, requireOneOf, requireEnum, requirePositiveInt, isUuid } from './validate.ts';
export { status, Metadata } from '@grpc/grpc-js';
