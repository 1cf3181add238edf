import { status, type ServiceError, Metadata } from '@grpc/grpc-js';
import { AuthenticationError, PermissionDeniedError } from '@domiq/auth';

/** Domain errors that map onto gRPC status codes; anything else is INTERNAL and its text is not leaked. */
export class InvalidArgumentError extends Error {
  override name = 'InvalidArgumentError';
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.field = field;
  }
}
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}
export class AlreadyExistsError extends Error {
  override name = 'AlreadyExistsError';
}
export class FailedPreconditionError extends Error {
  override name = 'FailedPreconditionError';
}
export class UnavailableError extends Error {
  override name = 'UnavailableError';
}

export function toServiceError(err: unknown): { error: Partial<ServiceError>; internal: boolean } {
  const make = (code: status, details: string, field?: string): Partial<ServiceError> => {
    const metadata = new Metadata();
    if (field) metadata.set('domiq-field', field);
    return { code, details, message: details, metadata };
  };
  if (err instanceof InvalidArgumentError) return { error: make(status.INVALID_ARGUMENT, err.message, err.field), internal: false };
  if (err instanceof AuthenticationError) return { error: make(status.UNAUTHENTICATED, err.message), internal: false };
  if (err instanceof PermissionDeniedError) return { error: make(status.PERMISSION_DENIED, err.message), internal: false };
  if (err instanceof NotFoundError) return { error: make(status.NOT_FOUND, err.message), internal: false };
  if (err instanceof AlreadyExistsError) return { error: make(status.ALREADY_EXISTS, err.message), internal: false };
  if (err instanceof FailedPreconditionError) return { error: make(status.FAILED_PRECONDITION, err.message), internal: false };
  // @domiq/bus refuses an event larger than the broker takes (by name: grpc does not depend on the bus).
  if ((err as Error)?.name === 'EventTooLargeError') return { error: make(status.RESOURCE_EXHAUSTED, (err as Error).message), internal: false };
  if (err instanceof UnavailableError) return { error: make(status.UNAVAILABLE, err.message), internal: false };
  const code = (err as { code?: unknown })?.code;
  // An error from a downstream gRPC call keeps its status (a NOT_FOUND stays NOT_FOUND), except that a peer refusing
  // *this service's* credentials says nothing about the caller's: that is our fault, INTERNAL, and logged.
  if (typeof code === 'number' && code > 0 && code <= 16 && 'details' in (err as object)) {
    if (code === status.UNAUTHENTICATED || code === status.PERMISSION_DENIED) return { error: make(status.INTERNAL, 'internal error'), internal: true };
    return { error: make(code, String((err as ServiceError).details)), internal: code === status.INTERNAL };
  }
  return { error: make(status.INTERNAL, 'internal error'), internal: true };
}
