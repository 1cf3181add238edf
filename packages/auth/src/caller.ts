import { SERVICE_NAMES, type ServiceName } from '@domiq/proto/services';
import { ROLES, type Role } from '@domiq/proto/vocabulary';


/**
 * The roles a user token can carry: the shared Role vocabulary (the seed's `users.role`, minus the old `api` role:
 * machines are services).
 */
export { ROLES, type Role };

/** Who is calling, as the token says. */
export type Caller =
  | { kind: 'user'; subject: string; role: Role; accountId: string; propertyIds: readonly string[] }
  | { kind: 'service'; subject: `service:${ServiceName}`; service: ServiceName };

/** A token that is missing, malformed, expired or not ours: the call is UNAUTHENTICATED, with the reason. */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
}

/** A caller who is known but may not do this: PERMISSION_DENIED, and nothing is read or changed. */
export class PermissionDeniedError extends Error {
  override name = 'PermissionDeniedError';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The one UUID check of the platform (ids in tokens, requests and CLI arguments). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Claims of a verified token -> a Caller; anything inconsistent is an authentication failure. */
export function callerFromClaims(claims: Record<string, unknown>): Caller {
  const sub = claims.sub;
  if (typeof sub !== 'string' || !sub) throw new AuthenticationError('token has no sub');
  if (sub.startsWith('service:')) {
    const service = sub.slice('service:'.length) as ServiceName;
    if (!SERVICE_NAMES.includes(service)) throw new AuthenticationError(`token names an unknown service "${service}"`);
    return { kind: 'service', subject: `service:${service}`, service };
  }
  if (!isUuid(sub) || sub !== sub.toLowerCase()) throw new AuthenticationError('token sub must be a user id (UUID) or service:<name>');
  const role = claims.role;
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw new AuthenticationError(`token role must be one of ${ROLES.join(', ')}`);
  const accountId = claims.account_id;
  if (typeof accountId !== 'string' || !isUuid(accountId) || accountId !== accountId.toLowerCase()) throw new AuthenticationError('token account_id must be a UUID');
  const raw = claims.property_ids ?? [];
  if (!Array.isArray(raw) || !raw.every((p): p is string => typeof p === 'string' && isUuid(p) && p === p.toLowerCase())) throw new AuthenticationError('token property_ids must be a list of UUIDs');
  if (role === 'property_manager' && raw.length === 0) throw new AuthenticationError('a property_manager token must name its property_ids');
  return { kind: 'user', subject: sub, role: role as Role, accountId, propertyIds: raw };
}

/** How the caller appears in an audit row (`event_log.actor_type` / `actor_id`). */
export function auditActor(caller: Caller): { actorType: 'user' | 'system'; actorId: string | null } {
  return caller.kind === 'user' ? { actorType: 'user', actorId: caller.subject } : { actorType: 'system', actorId: null };
}
