import type { MikroORM } from '@domiq/db';
import { inTransaction, readModel } from '@domiq/bus';
import {
  IdentityServiceService, type IdentityServiceServer, type Customer as CustomerMsg, type CustomerErasure as CustomerErasureMsg, type CustomerIdentity,
  type CustomerMerge as CustomerMergeMsg, type MergeSuggestion as MergeSuggestionMsg, type Property as PropertyMsg, type User as UserMsg, type Consent as ConsentMsg,
} from '@domiq/proto/identity';
import {
  defineGrpcService, InvalidArgumentError, requireEnum, requireOneOf, requireString, requireUuid, optionalUuid, type AccessTable, type GrpcService,
} from '@domiq/grpc';
import { auditActor } from '@domiq/auth';
import { channels, roles, slaTiers } from '@domiq/proto/vocabulary';
import type { CustomerErasureRow, CustomerMergeRow, PropertyRow, UserRow } from '../db/identity.entities.ts';
import type { ConsentView, CustomerDetails, CustomerRecord, IdentifierToResolve } from '../db/customer.repository.ts';
import type { MergeSuggestionRecord } from '../db/merge-suggestion.repository.ts';
import { InvalidIdentifierError, isEmailAddress, normaliseIdentifier, type IdentifierKind } from '../domain/identifier.ts';
import { consentSourceFromProto, consentSourceToProto, consentStatusFromProto, consentStatusToProto, OWN_CONSENT_SOURCES } from '../domain/consent.ts';
import { SUGGESTION_STATUSES } from '../domain/customer-merge.ts';
import { isTimeZone } from '../domain/time-zone.ts';
import { resolveCustomer } from '../app/resolve-customer.ts';
import { resolveCustomers } from '../app/resolve-customers.ts';
import { createAccount } from '../app/create-account.ts';
import { createProperty } from '../app/create-property.ts';
import { createTeam, ROUTING_MODES } from '../app/create-team.ts';
import { createUser } from '../app/create-user.ts';
import { getCustomer, getCustomers, getProperty, listMergeSuggestions, listUsers } from '../app/identity.queries.ts';
import { resolvePerson } from '../app/resolve-person.ts';
import { mergeCustomers, type MergeResult } from '../app/merge-customers.ts';
import { unmergeCustomers } from '../app/unmerge-customers.ts';
import { dismissMergeSuggestion } from '../app/dismiss-merge-suggestion.ts';
import { eraseCustomer } from '../app/erase-customer.ts';
import { setConsent } from '../app/set-consent.ts';

const KINDS: Record<string, IdentifierKind> = { IDENTIFIER_KIND_PHONE: 'phone', IDENTIFIER_KIND_EMAIL: 'email', IDENTIFIER_KIND_SOCIAL: 'social', IDENTIFIER_KIND_DEVICE: 'device' };
const KIND_TO_PROTO: Record<IdentifierKind, CustomerIdentity['kind']> = {
  phone: 'IDENTIFIER_KIND_PHONE', email: 'IDENTIFIER_KIND_EMAIL', social: 'IDENTIFIER_KIND_SOCIAL', device: 'IDENTIFIER_KIND_DEVICE',
};
const MAX_IDENTITIES = 500;
/** One person's identifiers in a ResolvePerson call. */
const MAX_PERSON_IDENTITIES = 20;
const MAX_REASON = 500;

/** One identifier of a ResolveCustomer(s) or ResolvePerson request, checked and normalised; `at` prefixes the field names. */
function parseIdentity(req: CustomerIdentity, at = ''): IdentifierToResolve {
  const kind = KINDS[req.kind];
  if (!kind) throw new InvalidArgumentError(`${at}kind`, 'must be PHONE, EMAIL, SOCIAL or DEVICE');
  if (kind === 'social') requireString(req.network, `${at}network`, 30);
  // Stored as given (not trimmed): existing identifiers were keyed that way.
  const network = kind === 'social' ? req.network : '';
  try {
    const value = normaliseIdentifier(kind, requireString(req.value, `${at}value`, 320), req.defaultRegion || 'US');
    return { kind, network, value, displayName: req.displayName.trim(), verified: false };
  } catch (err) {
    if (err instanceof InvalidIdentifierError) throw new InvalidArgumentError(`${at}value`, err.message);
    throw err;
  }
}

function toConsentMsg(c: ConsentView): ConsentMsg {
  return {
    channel: channels.toProto(c.channel), status: consentStatusToProto(c.status), source: consentSourceToProto(c.source), recordedAt: c.recordedAt.toISOString(),
    recordedBy: c.recordedBy,
  };
}

/** A customer as the hot path reads it; with `details` (GetCustomer(s)) its identifiers and consents too. */
function toCustomerMsg(c: CustomerRecord | CustomerDetails): CustomerMsg {
  const details = 'identifiers' in c ? c : null;
  return {
    id: c.id, accountId: c.accountId, name: c.profile.name ?? '', phoneNumbers: c.identityGraph.phone_numbers,
    emails: c.identityGraph.emails, slaTier: slaTiers.toProto(c.slaTier), status: c.status, createdAt: c.createdAt.toISOString(),
    mergedIntoId: c.mergedIntoId ?? '', erasedAt: c.erasedAt?.toISOString() ?? '', tags: c.tags, segments: c.segments,
    identifiers: (details?.identifiers ?? []).map((i) => ({ id: i.id, kind: KIND_TO_PROTO[i.kind], network: i.network, value: i.value, isVerified: i.isVerified, isPrimary: i.isPrimary })),
    consents: (details?.consents ?? []).map(toConsentMsg),
  };
}

function toMergeMsg(m: CustomerMergeRow): CustomerMergeMsg {
  return {
    id: m.id, accountId: m.accountId, sourceCustomerId: m.sourceCustomerId, targetCustomerId: m.targetCustomerId, reason: m.reason, status: m.status,
    mergedBy: m.mergedBy, mergedAt: m.mergedAt.toISOString(), movedIdentifierIds: m.movedIdentifierIds, unmergedBy: m.unmergedBy ?? '',
    unmergedAt: m.unmergedAt?.toISOString() ?? '', unmergeReason: m.unmergeReason ?? '',
  };
}

function toMergeResponse(r: MergeResult) {
  return { merge: toMergeMsg(r.merge), source: toCustomerMsg(r.source), target: toCustomerMsg(r.target) };
}

function toSuggestionMsg(s: MergeSuggestionRecord): MergeSuggestionMsg {
  return {
    id: s.id, accountId: s.accountId, customerAId: s.customerAId, customerBId: s.customerBId, reason: s.reason, identifierIds: s.identifierIds, status: s.status,
    createdAt: s.createdAt.toISOString(), decidedAt: s.decidedAt?.toISOString() ?? '', decidedBy: s.decidedBy ?? '', mergeId: s.mergeId ?? '',
  };
}

function toErasureMsg(e: CustomerErasureRow): CustomerErasureMsg {
  return {
    id: e.id, accountId: e.accountId, customerId: e.customerId, erasedCustomerIds: e.erasedCustomerIds, reason: e.reason, erasedBy: e.erasedBy,
    erasedAt: e.erasedAt.toISOString(), identifiersRemoved: e.identifiersRemoved, consentsRemoved: e.consentsRemoved,
    mergeSuggestionsRemoved: e.mergeSuggestionsRemoved, mergesClosed: e.mergesClosed, profileFieldsCleared: e.profileFieldsCleared,
    eventsRedacted: e.eventsRedacted,
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
  // The resolver of senders may resolve a person's several identifiers too (a web form's lead).
  resolvePerson: { roles: ['admin', 'supervisor', 'agent'], services: ['conversations'] },
  getCustomer: { roles: ['admin', 'supervisor', 'agent', 'engineer'], services: ['resman-connector'] },
  getCustomers: { roles: ['admin', 'supervisor', 'agent', 'engineer'], services: ['resman-connector'] },
  // An account is created by an admin token minted for its id (the operator's bootstrap step).
  createAccount: { roles: ['admin'], account: 'id' },
  createProperty: { roles: ['admin'] },
  getProperty: { roles: ['admin', 'supervisor', 'agent', 'engineer', 'property_manager'], services: ['resman-connector'], property: 'property_id' },
  createTeam: { roles: ['admin'] },
  createUser: { roles: ['admin'] },
  listUsers: { roles: ['admin', 'supervisor'] },
  // Merging, undoing a merge and erasing change who a customer is for every service: supervisors and admins only.
  mergeCustomers: { roles: ['admin', 'supervisor'] },
  unmergeCustomers: { roles: ['admin', 'supervisor'] },
  eraseCustomer: { roles: ['admin', 'supervisor'] },
  // Agents see the suggestions while they work a conversation; deciding one is a merge decision.
  listMergeSuggestions: { roles: ['admin', 'supervisor', 'agent'] },
  dismissMergeSuggestion: { roles: ['admin', 'supervisor'] },
  // An agent records what the customer told them. (The gateway would record SMS STOP keywords: it needs identity in
  // its registry `calls` and a place here first.)
  // conversations records an SMS STOP / START keyword the customer sent.
  setConsent: { roles: ['admin', 'supervisor', 'agent'], services: ['conversations'] },
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

    async resolvePerson(req, ctx) {
      if (req.identities.length === 0) throw new InvalidArgumentError('identities', 'is required');
      if (req.identities.length > MAX_PERSON_IDENTITIES) throw new InvalidArgumentError('identities', `at most ${MAX_PERSON_IDENTITIES} per call`);
      const identities = req.identities.map((i, n) => {
        if (!i.identity) throw new InvalidArgumentError(`identities[${n}].identity`, 'is required');
        return { ...parseIdentity(i.identity, `identities[${n}].identity.`), verified: i.verified };
      });
      const { customer, created, suggestionIds } = await inTransaction(orm, auditActor(ctx.caller), (uow) => resolvePerson(uow, ctx.accountId, identities));
      return { customer: toCustomerMsg(customer), created, mergeSuggestionIds: suggestionIds };
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

    async mergeCustomers(req, ctx) {
      const sourceCustomerId = requireUuid(req.sourceCustomerId, 'source_customer_id');
      const targetCustomerId = requireUuid(req.targetCustomerId, 'target_customer_id');
      if (targetCustomerId === sourceCustomerId) throw new InvalidArgumentError('target_customer_id', 'must not be the source customer');
      const reason = requireString(req.reason, 'reason', MAX_REASON);
      const result = await inTransaction(orm, auditActor(ctx.caller), (uow) => mergeCustomers(uow, {
        accountId: ctx.accountId, sourceCustomerId, targetCustomerId, reason, actor: ctx.caller.subject,
      }));
      return toMergeResponse(result);
    },

    async unmergeCustomers(req, ctx) {
      const mergeId = requireUuid(req.mergeId, 'merge_id');
      const reason = requireString(req.reason, 'reason', MAX_REASON);
      const result = await inTransaction(orm, auditActor(ctx.caller), (uow) => unmergeCustomers(uow, { accountId: ctx.accountId, mergeId, reason, actor: ctx.caller.subject }));
      return toMergeResponse(result);
    },

    async listMergeSuggestions(req, ctx) {
      const status = requireOneOf(req.status, 'status', SUGGESTION_STATUSES, 'open');
      const customerId = optionalUuid(req.customerId, 'customer_id');
      const limit = req.limit || 100;
      if (limit < 1 || limit > 500) throw new InvalidArgumentError('limit', 'must be between 1 and 500');
      const suggestions = await listMergeSuggestions(readModel(orm), ctx.accountId, { status, customerId, limit });
      return { suggestions: suggestions.map(toSuggestionMsg) };
    },

    async dismissMergeSuggestion(req, ctx) {
      const suggestionId = requireUuid(req.suggestionId, 'suggestion_id');
      const suggestion = await inTransaction(orm, auditActor(ctx.caller), (uow) => dismissMergeSuggestion(uow, { accountId: ctx.accountId, suggestionId, actor: ctx.caller.subject }));
      return { suggestion: toSuggestionMsg(suggestion) };
    },

    async eraseCustomer(req, ctx) {
      const customerId = requireUuid(req.customerId, 'customer_id');
      const reason = requireString(req.reason, 'reason', MAX_REASON);
      const { erasure, customer } = await inTransaction(orm, auditActor(ctx.caller), (uow) => eraseCustomer(uow, { accountId: ctx.accountId, customerId, reason, actor: ctx.caller.subject }));
      return { erasure: toErasureMsg(erasure), customer: toCustomerMsg(customer) };
    },

    async setConsent(req, ctx) {
      const customerId = requireUuid(req.customerId, 'customer_id');
      const channel = requireEnum(channels, req.channel, 'channel');
      const status = consentStatusFromProto(req.status);
      if (!status) throw new InvalidArgumentError('status', 'must be OPTED_IN or OPTED_OUT');
      const source = consentSourceFromProto(req.source);
      if (!source || OWN_CONSENT_SOURCES.includes(source)) throw new InvalidArgumentError('source', 'must be where the customer said it (SMS keyword, email unsubscribe, web form, agent, import)');
      const { consent, changed } = await inTransaction(orm, auditActor(ctx.caller), (uow) => setConsent(uow, { accountId: ctx.accountId, customerId, channel, status, source, actor: ctx.caller.subject }));
      return { consent: toConsentMsg(consent), changed, customer: toCustomerMsg(await getCustomer(readModel(orm), ctx.accountId, customerId)) };
    },
    },
  });
}
