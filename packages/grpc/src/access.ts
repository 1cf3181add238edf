import { PermissionDeniedError, type Caller, type Role } from '@domiq/auth';
import type { ServiceName } from '@domiq/proto/services';
import { InvalidArgumentError } from './errors.ts';
import { isUuid } from './validate.ts';

/** Who may call one gRPC method, and where its request names the tenant. */
export interface Access {
  /** User roles admitted. */
  roles: readonly Role[];
  /** Services admitted (they act for the account the request names, e.g. an event's account). */
  services?: readonly ServiceName[];
  /** Proto field path of the request's account, e.g. `account_id` (default) or `policy.account_id`. */
  account?: string;
  /**
   * Proto field path of the property, for property-scoped methods: a property manager must name one of theirs.
   * A method that admits property managers without it must scope its reads itself (`ctx.reachesProperty`).
   */
  property?: string;
}

/** One entry per method of the service; a method without an entry does not type-check. */
export type AccessTable<S> = { [K in keyof S as string extends K ? never : K]: Access };

/** Reads a snake_case proto field path from a ts-proto (camelCase) message. */
export function readField(message: unknown, path: string): unknown {
  let v: unknown = message;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())];
  }
  return v;
}

export interface AccessGrant {
  caller: Caller;
  /** The account the request acts on (checked against the caller). */
  accountId: string;
  /** Properties the caller is limited to (null: every property of the account). */
  propertyScope: readonly string[] | null;
  reachesProperty(propertyId: string | null | undefined): boolean;
}

/**
 * The tenant rule: a user acts only on their own account (a property manager only on their properties);
 * a service acts for the account the request names, and only on the methods that list it.
 */
export function checkAccess(method: string, access: Access, caller: Caller, request: unknown): AccessGrant {
  if (caller.kind === 'service') {
    if (!access.services?.includes(caller.service)) throw new PermissionDeniedError(`${caller.subject} may not call ${method}`);
  } else if (!access.roles.includes(caller.role)) {
    throw new PermissionDeniedError(`role ${caller.role} may not call ${method}`);
  }
  const accountField = access.account ?? 'account_id';
  const accountId = readField(request, accountField);
  if (typeof accountId !== 'string' || !accountId) throw new InvalidArgumentError(accountField, 'is required');
  if (!isUuid(accountId)) throw new InvalidArgumentError(accountField, 'must be a UUID');
  const account = accountId.toLowerCase();
  if (caller.kind === 'service') return grant(caller, account, null);
  if (account !== caller.accountId) throw new PermissionDeniedError(`${accountField} is not the caller's account`);
  if (caller.role !== 'property_manager') return grant(caller, account, null);
  if (access.property) {
    const propertyId = readField(request, access.property);
    if (typeof propertyId !== 'string' || !caller.propertyIds.includes(propertyId.toLowerCase())) {
      throw new PermissionDeniedError(`${access.property} is not one of the caller's properties`);
    }
  }
  return grant(caller, account, caller.propertyIds);
}

function grant(caller: Caller, accountId: string, propertyScope: readonly string[] | null): AccessGrant {
  return { caller, accountId, propertyScope, reachesProperty: (id) => propertyScope === null || (!!id && propertyScope.includes(id)) };
}
