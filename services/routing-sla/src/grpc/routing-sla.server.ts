import type { MikroORM } from '@domiq/db';
import {
  RoutingSlaServiceService, type RoutingSlaServiceServer, type SlaOverride as SlaOverrideMsg, type SlaPolicy as SlaPolicyMsg,
} from '@domiq/proto/routing-sla';
import {
  defineGrpcService, InvalidArgumentError, NotFoundError, optionalUuid, requireOneOf, requireString, requireUuid, type AccessTable, type GrpcService,
} from '@domiq/grpc';
import { appendEvent } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import { auditActor, PermissionDeniedError } from '@domiq/auth';
import { Agent, Assignment, ConversationSla, Sla } from '../db/routing-sla.entities.ts';
import { BusinessCalendar, InvalidCalendarError, isIanaZone, parseClock, WEEKDAYS, type WeeklyHours } from '../domain/business-calendar.ts';
import { CHANNELS, PRIORITIES, SLA_TIERS, type SlaOverrides } from '../domain/sla-policy.ts';
import { AGENT_STATUSES } from '../domain/round-robin.ts';

// A year: anything longer is a typo, and it bounds the business-calendar walk.
const MAX_MINUTES = 525_600;

type SlaRow = InstanceType<typeof Sla.class>;

function requireMinutes(value: number, field: string, fallback?: number): number {
  if (value === 0 && fallback !== undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0 || value > MAX_MINUTES) throw new InvalidArgumentError(field, `must be a whole number of minutes between 1 and ${MAX_MINUTES}`);
  return value;
}

function toOverrides(map: Record<string, SlaOverrideMsg>, field: string, allowedKeys: readonly string[]): SlaOverrides {
  const out: SlaOverrides = {};
  for (const [key, o] of Object.entries(map)) {
    if (!allowedKeys.includes(key)) throw new InvalidArgumentError(`${field}[${key}]`, `key must be one of ${allowedKeys.join(', ')}`);
    const entry: SlaOverrides[string] = {};
    if (o.firstResponseMinutes) entry.first_response = requireMinutes(o.firstResponseMinutes, `${field}[${key}].first_response_minutes`);
    if (o.resolutionMinutes) entry.resolution = requireMinutes(o.resolutionMinutes, `${field}[${key}].resolution_minutes`);
    if (entry.first_response === undefined && entry.resolution === undefined) throw new InvalidArgumentError(`${field}[${key}]`, 'must override first_response_minutes or resolution_minutes');
    out[key] = entry;
  }
  return out;
}

function fromOverrides(o: SlaOverrides): Record<string, SlaOverrideMsg> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, { firstResponseMinutes: v.first_response ?? 0, resolutionMinutes: v.resolution ?? 0 }]));
}

/** Every field of an UpsertSlaPolicy request checked; the error names the first bad one. */
function validatePolicy(msg: SlaPolicyMsg | undefined) {
  if (!msg) throw new InvalidArgumentError('policy', 'is required');
  const id = optionalUuid(msg.id, 'policy.id');
  const accountId = requireUuid(msg.accountId, 'policy.account_id');
  const propertyId = optionalUuid(msg.propertyId, 'policy.property_id');
  const name = requireString(msg.name, 'policy.name', 100);
  const tier = requireOneOf(msg.tier, 'policy.tier', SLA_TIERS);
  const firstResponseTimeMinutes = requireMinutes(msg.firstResponseMinutes, 'policy.first_response_minutes');
  const resolutionTimeMinutes = requireMinutes(msg.resolutionMinutes, 'policy.resolution_minutes');
  if (resolutionTimeMinutes < firstResponseTimeMinutes) throw new InvalidArgumentError('policy.resolution_minutes', 'must not be shorter than first_response_minutes');
  const updateIntervalMinutes = requireMinutes(msg.updateIntervalMinutes, 'policy.update_interval_minutes', 720);
  const timezone = msg.timezone || 'UTC';
  if (!isIanaZone(timezone)) throw new InvalidArgumentError('policy.timezone', `must be an IANA time zone, got "${timezone}"`);
  const businessHours: WeeklyHours = {};
  msg.businessHours.forEach((h, i) => {
    const field = `policy.business_hours[${i}]`;
    const day = requireOneOf(h.day.toLowerCase(), `${field}.day`, WEEKDAYS);
    if (businessHours[day]) throw new InvalidArgumentError(`${field}.day`, `${day} is listed twice`);
    try {
      const start = parseClock(h.start, `${field}.start`);
      const end = parseClock(h.end, `${field}.end`, true);
      if (end <= start) throw new InvalidArgumentError(`${field}.end`, 'must be after start (split an overnight window over two days)');
    } catch (err) {
      if (err instanceof InvalidCalendarError) throw new InvalidArgumentError(err.field, err.problem);
      throw err;
    }
    businessHours[day] = { start: h.start, end: h.end };
  });
  try {
    new BusinessCalendar({ hours: businessHours, timezone, businessHoursOnly: msg.businessHoursOnly });
  } catch (err) {
    if (err instanceof InvalidCalendarError) throw new InvalidArgumentError(`policy.${err.field}`, err.problem);
    throw err;
  }
  return {
    id, accountId, propertyId, name, tier, firstResponseTimeMinutes, resolutionTimeMinutes, updateIntervalMinutes, timezone, businessHours,
    businessHoursOnly: msg.businessHoursOnly,
    channelOverrides: toOverrides(msg.channelOverrides, 'policy.channel_overrides', CHANNELS),
    priorityOverrides: toOverrides(msg.priorityOverrides, 'policy.priority_overrides', PRIORITIES),
    isDefault: msg.isDefault,
    isActive: msg.isActive ?? true,
  };
}

function toPolicyMsg(s: SlaRow): SlaPolicyMsg {
  return {
    id: s.id, accountId: s.accountId, propertyId: s.propertyId ?? '', name: s.name, tier: s.tier,
    firstResponseMinutes: s.firstResponseTimeMinutes, resolutionMinutes: s.resolutionTimeMinutes, businessHoursOnly: s.businessHoursOnly,
    businessHours: WEEKDAYS.flatMap((day) => (s.businessHours[day] ? [{ day, ...s.businessHours[day] }] : [])),
    timezone: s.timezone, updateIntervalMinutes: s.updateIntervalMinutes,
    channelOverrides: fromOverrides(s.channelOverrides), priorityOverrides: fromOverrides(s.priorityOverrides),
    isDefault: s.isDefault, isActive: s.isActive,
  };
}

/** Who may call each method. */
export const routingSlaAccess: AccessTable<RoutingSlaServiceServer> = {
  upsertSlaPolicy: { roles: ['admin', 'supervisor'], account: 'policy.account_id' },
  // Agents set only their own presence (checked in the handler); supervisors set anyone's.
  setAgentStatus: { roles: ['admin', 'supervisor', 'agent'] },
  getConversationRouting: { roles: ['admin', 'supervisor', 'agent', 'engineer'] },
};

export function routingSlaGrpcService(orm: MikroORM): GrpcService {
  const em = () => orm.em.fork({ clear: true });
  return defineGrpcService<RoutingSlaServiceServer>({
    name: 'domiq.routing_sla.v1.RoutingSlaService',
    definition: RoutingSlaServiceService,
    access: routingSlaAccess,
    handlers: {
    async upsertSlaPolicy(req, ctx) {
      const { id, ...fields } = validatePolicy(req.policy);
      const fork = em();
      const policy = await fork.transactional(async (tx) => {
        const existing = id ? await tx.findOne(Sla, { id }) : null;
        // Another account's id is indistinguishable from a missing one.
        if (existing && existing.accountId !== fields.accountId) throw new NotFoundError(`sla policy ${id} not found`);
        const row = existing ? tx.assign(existing, fields) : tx.create(Sla, { id: id ?? crypto.randomUUID(), ...fields });
        appendEvent(tx, events.slaPolicyUpserted, {
          accountId: fields.accountId, slaPolicyId: row.id, propertyId: fields.propertyId ?? '', name: fields.name, tier: fields.tier, created: !existing,
        }, { entityId: row.id, accountId: fields.accountId, ...auditActor(ctx.caller) });
        return row;
      });
      return { policy: toPolicyMsg(policy) };
    },

    async setAgentStatus(req, ctx) {
      const { accountId } = ctx;
      const agentId = requireUuid(req.agentId, 'agent_id');
      const status = requireOneOf(req.status, 'status', AGENT_STATUSES);
      if (ctx.caller.kind === 'user' && ctx.caller.role === 'agent' && ctx.caller.subject !== agentId) throw new PermissionDeniedError('an agent may set only their own status');
      const fork = em();
      const agent = await fork.findOne(Agent, { agentId, accountId });
      if (!agent) throw new NotFoundError(`agent ${agentId} not found`);
      agent.status = status;
      await fork.flush();
      return { agentId, status };
    },

    async getConversationRouting(req, ctx) {
      const { accountId } = ctx;
      const conversationId = requireUuid(req.conversationId, 'conversation_id');
      const fork = em();
      const sla = await fork.findOne(ConversationSla, { conversationId, accountId });
      if (!sla) throw new NotFoundError(`conversation ${conversationId} not found`);
      const assignment = await fork.findOne(Assignment, { conversationId, accountId, unassignedAt: null }, { orderBy: { assignedAt: 'desc', id: 'asc' } });
      return {
        conversationId,
        assignedAgentId: assignment?.agentId ?? '',
        assignedAt: assignment?.assignedAt.toISOString() ?? '',
        firstResponseDueAt: sla.firstResponseDueAt?.toISOString() ?? '',
        resolutionDueAt: sla.resolutionDueAt?.toISOString() ?? '',
        slaPolicyId: sla.slaPolicyId ?? '',
      };
    },
    },
  });
}
