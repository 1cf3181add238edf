export { implement, startGrpcServer, type AsyncImplementation, type GrpcService, type RunningGrpcServer } from './server.ts';
export { createClient, type PromiseClient, type CallOpts } from './client.ts';
export { InvalidArgumentError, NotFoundError, AlreadyExistsError, FailedPreconditionError, UnavailableError, toServiceError } from './errors.ts';
export { requireString, requireUuid, optionalUuid, requireOneOf, requirePositiveInt, isUuid } from './validate.ts';
export { status, Metadata } from '@grpc/grpc-js';
