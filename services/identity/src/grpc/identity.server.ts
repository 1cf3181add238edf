import type { MikroORM } from '@domiq/db';
import { appendEvent } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import {
  IdentityServiceService, type IdentityServiceServer, type Customer as CustomerMsg, type User as UserMsg,
} from '@domiq/proto/identity';
import {
  AlreadyExistsError, defineGrpcService, InvalidArgumentError, NotFoundError, requireOneOf, requireString, requireUuid, optionalUuid, type AccessTable, type GrpcService,
} from '@domiq/grpc';
import { auditActor, ROLES } from '@domiq/auth';
import { Account, Customer, Property, Team, User } from '../db/identity.entities.ts';
import { resolveCustomer } from '../db/customer.repository.ts';
import { InvalidIdentifierError, normaliseIdentifier, type IdentifierKind } from '../domain/identifier.ts';

const KINDS: Record<string, IdentifierKind> = { IDENTIFIER_KIND_PHONE: 'phone', IDENTIFIER_KIND_EMAIL: 'email', IDENTIFIER_KIND_SOCIAL: 'social' };

function toCustomerMsg(c: InstanceType<typeof Customer.class>): CustomerMsg {
  return {
    id: c.id, accountId: c.accountId, name: c.profile.name ?? '', phoneNumbers: c.identityGraph.phone_numbers,
    emails: c.identityGraph.emails, slaTier: c.slaTier, status: c.status, createdAt: c.createdAt.toISOString(),
  };
}

function toUserMsg(u: InstanceType<typeof User.class>): UserMsg {
  return {
    id: u.id, accountId: u.accountId, email: u.email, firstName: u.firstName, lastName: u.lastName, role: u.role,
    teamId: u.teamId ?? '', skills: u.skills, maxConcurrentConversations: u.maxConcurrentConversations,
  };
}

/** Who may call each method (the server checks it before a handler runs; see Access in @domiq/grpc). */
export const identityAccess: AccessTable<IdentityServiceServer> = {
  resolveCustomer: { roles: ['admin', 'supervisor', 'agent'], services: ['conversations'] },
  getCustomer: { roles: ['admin', 'supervisor', 'agent', 'engineer'], services: ['resman-connector'] },
  // An account is created by an admin token minted for its id (the operator's bootstrap step).
  createAccount: { roles: ['admin'], account: 'id' },
  createProperty: { roles: ['admin'] },
  getProperty: { roles: ['admin', 'supervisor', 'agent', 'engineer', 'property_manager'], services: ['resman-connector'], property: 'property_id' },
  createTeam: { roles: ['admin'] },
  createUser: { roles: ['admin'] },
  listUsers: { roles: ['admin', 'supervisor'] },
};

/**
 * A create with a client-chosen id: the caller's own row is returned as it is (a retry is idempotent); an id another
 * account holds is "taken", the same answer whoever asks, and nothing is written.
 */
function ownOrTaken<T extends { accountId: string }>(found: T | null, accountId: string, what: string, id: string): T | null {
  if (found && found.accountId !== accountId) throw new AlreadyExistsError(`${what} id ${id} is taken`);
  return found;
}

export function identityGrpcService(orm: MikroORM): GrpcService {
  const em = () => orm.em.fork({ clear: true });
  // Accounts are never deleted, so one that exists once exists for good: skip the lookup on the hot path.
  const knownAccounts = new Set<string>();
  const requireAccount = async (fork: ReturnType<typeof em>, accountId: string) => {
    if (knownAccounts.has(accountId)) return;
    if (!(await fork.count(Account, { id: accountId }))) throw new NotFoundError(`account ${accountId} not found`);
    if (knownAccounts.size > 100_000) knownAccounts.clear();
    knownAccounts.add(accountId);
  };
  return defineGrpcService<IdentityServiceServer>({
    name: 'domiq.identity.v1.IdentityService',
    definition: IdentityServiceService,
    access: identityAccess,
    handlers: {
    async resolveCustomer(req, ctx) {
      const { accountId } = ctx;
      const kind = KINDS[req.kind];
      if (!kind) throw new InvalidArgumentError('kind', 'must be PHONE, EMAIL or SOCIAL');
      if (kind === 'social') requireString(req.network, 'network', 30);
      let value: string;
      try {
        value = normaliseIdentifier(kind, requireString(req.value, 'value', 320), req.defaultRegion || 'US');
      } catch (err) {
        if (err instanceof InvalidIdentifierError) throw new InvalidArgumentError('value', err.message);
        throw err;
      }
      const fork = em();
      await requireAccount(fork, accountId);
      const { customer, created } = await resolveCustomer(fork, { accountId, kind, network: kind === 'social' ? req.network : '', value, displayName: req.displayName.trim() });
      return { customer: toCustomerMsg(customer), created };
    },

    async getCustomer(req, ctx) {
      const { accountId } = ctx;
      const id = requireUuid(req.customerId, 'customer_id');
      const customer = await em().findOne(Customer, { id, accountId });
      if (!customer) throw new NotFoundError(`customer ${id} not found`);
      return { customer: toCustomerMsg(customer) };
    },

    async createAccount(req, ctx) {
      const name = requireString(req.name, 'name', 200);
      const id = ctx.accountId;
      const account = await em().transactional(async (tx) => {
        const found = await tx.findOne(Account, { id });
        if (found) return found;
        appendEvent(tx, events.identityAccountCreated, { accountId: id, name }, { entityId: id, accountId: id, ...auditActor(ctx.caller) });
        return tx.create(Account, { id, name });
      });
      return { account: { id: account.id, name: account.name } };
    },

    async createProperty(req, ctx) {
      const { accountId } = ctx;
      const name = requireString(req.name, 'name', 200);
      const timezone = req.timezone || 'UTC';
      if (!Intl.supportedValuesOf('timeZone').includes(timezone) && timezone !== 'UTC') throw new InvalidArgumentError('timezone', 'must be an IANA time zone');
      const id = optionalUuid(req.id, 'id') ?? crypto.randomUUID();
      const property = await em().transactional(async (tx) => {
        await requireAccount(tx, accountId);
        const found = ownOrTaken(await tx.findOne(Property, { id }), accountId, 'property', id);
        if (found) return found;
        const created = tx.create(Property, { id, accountId, name, timezone });
        appendEvent(tx, events.identityPropertyCreated, { accountId, propertyId: id, name, timezone }, { entityId: id, accountId, ...auditActor(ctx.caller) });
        return created;
      });
      return { property: { id: property.id, accountId: property.accountId, name: property.name, timezone: property.timezone } };
    },

    async getProperty(req, ctx) {
      const { accountId } = ctx;
      const id = requireUuid(req.propertyId, 'property_id');
      const property = await em().findOne(Property, { id, accountId });
      if (!property) throw new NotFoundError(`property ${id} not found`);
      return { property: { id: property.id, accountId: property.accountId, name: property.name, timezone: property.timezone } };
    },

    async createTeam(req, ctx) {
      const { accountId } = ctx;
      const name = requireString(req.name, 'name', 100);
      const routingMode = requireOneOf(req.routingMode, 'routing_mode', ['round_robin', 'least_busy', 'skill_based', 'manual'] as const, 'round_robin');
      const id = optionalUuid(req.id, 'id') ?? crypto.randomUUID();
      const team = await em().transactional(async (tx) => {
        await requireAccount(tx, accountId);
        const found = ownOrTaken(await tx.findOne(Team, { id }), accountId, 'team', id);
        if (found) return found;
        appendEvent(tx, events.identityTeamCreated, { accountId, teamId: id, name, routingMode }, { entityId: id, accountId, ...auditActor(ctx.caller) });
        return tx.create(Team, { id, accountId, name, routingMode });
      });
      return { team: { id: team.id, accountId: team.accountId, name: team.name, routingMode: team.routingMode } };
    },

    async createUser(req, ctx) {
      const { accountId } = ctx;
      const email = requireString(req.email, 'email', 255).toLowerCase();
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new InvalidArgumentError('email', 'must be an email address');
      const firstName = requireString(req.firstName, 'first_name', 100);
      const lastName = requireString(req.lastName, 'last_name', 100);
      const role = requireOneOf(req.role, 'role', ROLES, 'agent');
      const teamId = optionalUuid(req.teamId, 'team_id');
      const max = req.maxConcurrentConversations || 5;
      if (max < 1 || max > 100) throw new InvalidArgumentError('max_concurrent_conversations', 'must be between 1 and 100');
      const id = optionalUuid(req.id, 'id') ?? crypto.randomUUID();
      const user = await em().transactional(async (tx) => {
        await requireAccount(tx, accountId);
        if (teamId && !(await tx.count(Team, { id: teamId, accountId }))) throw new NotFoundError(`team ${teamId} not found`);
        const existing = (await tx.findOne(User, { accountId, email })) ?? ownOrTaken(await tx.findOne(User, { id }), accountId, 'user', id);
        if (existing) return existing;
        const created = tx.create(User, { id, accountId, email, firstName, lastName, role, teamId, skills: req.skills, maxConcurrentConversations: max, displayName: `${firstName} ${lastName}` });
        appendEvent(tx, events.identityUserCreated, {
          accountId, userId: id, teamId: teamId ?? '', role, skills: req.skills, maxConcurrentConversations: max, email, firstName, lastName,
        }, { entityId: id, accountId, ...auditActor(ctx.caller) });
        return created;
      });
      return { user: toUserMsg(user) };
    },

    async listUsers(req, ctx) {
      const { accountId } = ctx;
      const teamId = optionalUuid(req.teamId, 'team_id');
      const users = await em().find(User, teamId ? { accountId, teamId } : { accountId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
      return { users: users.map(toUserMsg) };
    },
    },
  });
}
