import { describe, expect, it } from 'vitest';
import { PermissionDeniedError, type Caller } from '@domiq/auth';
import { checkAccess, InvalidArgumentError, readField, type Access } from '@domiq/grpc';

const A = '0d0e0000-0000-4000-8000-00000000000a';
const B = '0d0e0000-0000-4000-8000-00000000000b';
const P1 = '0d0e0000-0000-4000-8000-000000000001';
const P2 = '0d0e0000-0000-4000-8000-000000000002';
const user = (role: Extract<Caller, { kind: 'user' }>['role'], accountId = A, propertyIds: string[] = []): Caller => ({ kind: 'user', subject: crypto.randomUUID(), role, accountId, propertyIds });
const service = (name: 'conversations' | 'identity'): Caller => ({ kind: 'service', subject: `service:${name}`, service: name });

const getProperty: Access = { roles: ['admin', 'property_manager'], services: ['conversations'], property: 'property_id' };

describe('checkAccess', () => {
  it('admits a role of the caller’s own account and scopes property managers', () => {
    expect(checkAccess('M', getProperty, user('admin'), { accountId: A, propertyId: P1 })).toMatchObject({ accountId: A, propertyScope: null });
    const g = checkAccess('M', getProperty, user('property_manager', A, [P1]), { accountId: A, propertyId: P1 });
    expect(g.propertyScope).toEqual([P1]);
    expect(g.reachesProperty(P1)).toBe(true);
    expect(g.reachesProperty(P2)).toBe(false);
    expect(g.reachesProperty(null)).toBe(false);
  });

  it('refuses another account, a role not listed, a property not theirs, and a service not listed', () => {
    expect(() => checkAccess('M', getProperty, user('admin', B), { accountId: A, propertyId: P1 })).toThrow(PermissionDeniedError);
    expect(() => checkAccess('M', getProperty, user('agent'), { accountId: A, propertyId: P1 })).toThrow(PermissionDeniedError);
    expect(() => checkAccess('M', getProperty, user('property_manager', A, [P2]), { accountId: A, propertyId: P1 })).toThrow(PermissionDeniedError);
    expect(() => checkAccess('M', getProperty, user('property_manager', A, [P2]), { accountId: A, propertyId: '' })).toThrow(PermissionDeniedError);
    expect(() => checkAccess('M', getProperty, service('identity'), { accountId: A, propertyId: P1 })).toThrow(PermissionDeniedError);
  });

  it('lets a listed service act for the account the request names, which must still be a UUID', () => {
    expect(checkAccess('M', getProperty, service('conversations'), { accountId: B.toUpperCase(), propertyId: P1 }).accountId).toBe(B);
    expect(() => checkAccess('M', getProperty, service('conversations'), { accountId: '', propertyId: P1 })).toThrow(InvalidArgumentError);
    expect(() => checkAccess('M', getProperty, service('conversations'), { accountId: 'acme' })).toThrow('account_id: must be a UUID');
  });

  it('reads the account where the method says it is', () => {
    const upsertPolicy: Access = { roles: ['admin'], account: 'policy.account_id' };
    expect(checkAccess('M', upsertPolicy, user('admin'), { policy: { accountId: A } }).accountId).toBe(A);
    expect(() => checkAccess('M', upsertPolicy, user('admin'), { accountId: A })).toThrow('policy.account_id: is required');
    expect(readField({ policy: { accountId: A } }, 'policy.account_id')).toBe(A);
    expect(readField({}, 'policy.account_id')).toBeUndefined();
  });
});

describe('toServiceError', () => {
  it("answers INTERNAL when a peer refuses this service's own credentials, and keeps other peer statuses", async () => {
    const { toServiceError, status } = await import('@domiq/grpc');
    const peer = (code: number) => Object.assign(new Error('peer'), { code, details: 'token expired' });
    expect(toServiceError(peer(status.UNAUTHENTICATED))).toMatchObject({ error: { code: status.INTERNAL, details: 'internal error' }, internal: true });
    expect(toServiceError(peer(status.PERMISSION_DENIED)).error.code).toBe(status.INTERNAL);
    expect(toServiceError(peer(status.NOT_FOUND)).error).toMatchObject({ code: status.NOT_FOUND, details: 'token expired' });
    expect(toServiceError(new PermissionDeniedError('role agent may not')).error.code).toBe(status.PERMISSION_DENIED);
  });
});
