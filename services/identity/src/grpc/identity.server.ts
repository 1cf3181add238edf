import type { MikroORM } from '@domiq/db';
import { inTransaction, readModel } from '@domiq/bus';
import {
  IdentityServiceService, type IdentityServiceServer, type Customer as CustomerMsg, type CustomerIdentity, type Property as PropertyMsg, type User as UserMsg,
} from '@domiq/proto/identity';
import {
  defineGrpcService, InvalidArgumentError, requireEnum, requireOneOf, requireString, requireUuid, optionalUuid, type AccessTable, type GrpcService,
} from '@domiq/grpc';
import { auditActor } from '@domiq/auth';
import { roles, slaTiers } from '@domiq/proto/vocabulary';
import type { PropertyRow, UserRow } from '../db/identity.entities.ts';
import type { CustomerRecord } from '../db/customer.repository.ts';
import { InvalidIdentifierError, isEmailAddress, normaliseIdentifier, type IdentifierKind } from '../domain/identifier.ts';
import { isTimeZone } from '../domain/time-zone.ts';
import { resolveCustomer, type ResolveCustomerInput } from '../app/resolve-customer.ts';
import { resolveCustomers } from '../app/resolve-customers.ts';
import { createAccount } from '../app/create-account.ts';
import { createProperty } from '../app/create-property.ts';
import { createTeam, ROUTING_MODES } from '../app/create-team.ts';
import { createUser } from '../app/create-user.ts';
import { getCustomer, getCustomers, getProperty, listUsers } from '../app/identity.queries.ts';

const KINDS: Record<string, IdentifierKind> = { IDENTIFIER_KIND_PHONE: 'phone', IDENTIFIER_KIND_EMAIL: 'email', IDENTIFIER_KIND_SOCIAL: 'social' };
const MAX_IDENTITIES = 500;

/** One identifier of a ResolveCustomer(s) request, checked and normalised; `at` prefixes the field names. */
function parseIdentity(req: CustomerIdentity, at = ''): Omit<ResolveCustomerInput, 'accountId'> {
  const kind = KINDS[req.kind];
  if (!kind) throw new InvalidArgumentError(`${at}kind`, 'must be PHONE, EMAIL or SOCIAL');
  if (kind === 'social') requireString(req.network, `${at}network`, 30);
  // Stored as given (not trimmed): existing identifiers were keyed that way.
  const network = kind === 'social' ? req.network : '';
  try {
    const value = normaliseIdentifier(kind, requireString(req.value, `${at}value`, 320), req.defaultRegion || 'US');
    return { kind, network, value, displayName: req.displayName.trim() };
  } catch (err) {
    if (err instanceof InvalidIdentifierError) throw new InvalidArgumentError(`${at}value`, err.message);
    throw err;
  }
}

function toCustomerMsg(c: CustomerRecord): CustomerMsg {
  return {
    id: c.id, accountId: c.accountId, name: c.profile.name ?? '', phoneNumbers: c.identityGraph.phone_numbers,
    emails: c.identityGraph.emails, slaTier: slaTiers.toProto(c.slaTier), status: c.status, createdAt: c.createdAt.toISOString(),
  };
}

function toPropertyMsg(p: PropertyRow): PropertyMsg {
  return { id: p.id, accountId: p.accountId, name: p.name, timezone: p.timezone };
}

function toUserMsg(u: UserRow): UserMsg {
  return {
    id: u.id, accountId: u.accountId, email: u.email, firstName: u.firstName, lastName: u.lastName, role: roles.toProto(u.role),
    teamId: u.teamId ?? '', skills: u.skills, maxConcurrentConversations: u.maxConcurrentConversations,
  };
}

/** Who may call each method (the server checks it before a handler runs; see Access in @domiq/grpc). */
export const identityAccess: AccessTable<IdentityServiceServer> = {
  resolveCustomer: { roles: ['admin', 'supervisor', 'agent'], services: ['conversations'] },
  resolveCustomers: { roles: ['admin', 'supervisor', 'agent'], services: ['conversations'] },
  getCustomer: { roles: ['admin', 'supervisor', 'agent', 'engineer'], services: ['resman-connector'] },
  getCustomers: { roles: ['admin', 'supervisor', 'agent', 'engineer'], services: ['resman-connector'] },
  // An account is created by an admin token minted for its id (the operator's bootstrap step).
  createAccount: { roles: ['admin'], account: 'id' },
  createProperty: { roles: ['admin'] },
  getProperty: { roles: ['admin', 'supervisor', 'agent', 'engineer', 'property_manager'], services: ['resman-connector'], property: 'property_id' },
  createTeam: { roles: ['admin'] },
  createUser: { roles: ['admin'] },
  listUsers: { roles: ['admin', 'supervisor'] },
};

export function identityGrpcService(orm: MikroORM): GrpcService {
  return defineGrpcService<IdentityServiceServer>({
    name: 'domiq.identity.v1.IdentityService',
    definition: IdentityServiceService,
    access: identityAccess,
    handlers: {
    async resolveCustomer(req, ctx) {
      const identity = parseIdentity(req);
      const { customer, created } = await inTransaction(orm, auditActor(ctx.caller), (uow) => resolveCustomer(uow, { accountId: ctx.accountId, ...identity }));
      return { customer: toCustomerMsg(customer), created };
    },

    async resolveCustomers(req, ctx) {
      if (req.identities.length > MAX_IDENTITIES) throw new InvalidArgumentError('identities', `at most ${MAX_IDENTITIES} per call`);
      const identities = req.identities.map((i, n) => parseIdentity(i, `identities[${n}].`));
      const results = await inTransaction(orm, auditActor(ctx.caller), (uow) => resolveCustomers(uow, ctx.accountId, identities));
      return { results: results.map((r) => ({ customer: toCustomerMsg(r.customer), created: r.created })) };
    },

    async getCustomer(req, ctx) {
      const id = requireUuid(req.customerId, 'customer_id');
      return { customer: toCustomerMsg(await getCustomer(readModel(orm), ctx.accountId, id)) };
    },

    async getCustomers(req, ctx) {
      if (req.customerIds.length > MAX_IDENTITIES) throw new InvalidArgumentError('customer_ids', `at most ${MAX_IDENTITIES} per call`);
      const ids = req.customerIds.map((id, n) => requireUuid(id, `customer_ids[${n}]`));
      return { customers: (await getCustomers(readModel(orm), ctx.accountId, ids)).map(toCustomerMsg) };
    },

    async createAccount(req, ctx) {
      const name = requireString(req.name, 'name', 200);
      const account = await inTransaction(orm, auditActor(ctx.caller), (uow) => createAccount(uow, { id: ctx.accountId, name }));
      return { account: { id: account.id, name: account.name } };
    },

    async createProperty(req, ctx) {
      const name = requireString(req.name, 'name', 200);
      const timezone = req.timezone || 'UTC';
      if (!isTimeZone(timezone)) throw new InvalidArgumentError('timezone', 'must be an IANA time zone');
      const id = optionalUuid(req.id, 'id') ?? crypto.randomUUID();
      const property = await inTransaction(orm, auditActor(ctx.caller), (uow) => createProperty(uow, { accountId: ctx.accountId, id, name, timezone }));
      return { property: toPropertyMsg(property) };
    },

    async getProperty(req, ctx) {
      const id = requireUuid(req.propertyId, 'property_id');
      return { property: toPropertyMsg(await getProperty(readModel(orm), ctx.accountId, id)) };
    },

    async createTeam(req, ctx) {
      const name = requireString(req.name, 'name', 100);
      const routingMode = requireOneOf(req.routingMode, 'routing_mode', ROUTING_MODES, 'round_robin');
      const id = optionalUuid(req.id, 'id') ?? crypto.randomUUID();
      const team = await inTransaction(orm, auditActor(ctx.caller), (uow) => createTeam(uow, { accountId: ctx.accountId, id, name, routingMode }));
      return { team: { id: team.id, accountId: team.accountId, name: team.name, routingMode: team.routingMode } };
    },

    async createUser(req, ctx) {
      const email = requireString(req.email, 'email', 255).toLowerCase();
      if (!isEmailAddress(email)) throw new InvalidArgumentError('email', 'must be an email address');
      const firstName = requireString(req.firstName, 'first_name', 100);
      const lastName = requireString(req.lastName, 'last_name', 100);
      const role = requireEnum(roles, req.role, 'role', 'agent');
      const teamId = optionalUuid(req.teamId, 'team_id');
      const max = req.maxConcurrentConversations || 5;
      if (max < 1 || max > 100) throw new InvalidArgumentError('max_concurrent_conversations', 'must be between 1 and 100');
      const id = optionalUuid(req.id, 'id') ?? crypto.randomUUID();
      const user = await inTransaction(orm, auditActor(ctx.caller), (uow) => createUser(uow, {
        accountId: ctx.accountId, id, email, firstName, lastName, role, teamId, skills: req.skills, maxConcurrentConversations: max,
      }));
      return { user: toUserMsg(user) };
    },

    async listUsers(req, ctx) {
      const teamId = optionalUuid(req.teamId, 'team_id');
      const users = await listUsers(readModel(orm), ctx.accountId, { teamId });
      return { users: users.map(toUserMsg) };
    },
    },
  });
}
