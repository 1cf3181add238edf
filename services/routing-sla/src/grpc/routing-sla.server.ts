import type { MikroORM } from '@domiq/db';
import {
  RoutingSlaServiceService, type RoutingSlaServiceServer, type SlaOverride as SlaOverrideMsg, type SlaPolicy as SlaPolicyMsg,
} from '@domiq/proto/routing-sla';
import {
  defineGrpcService, InvalidArgumentError, optionalUuid, requireEnum, requireOneOf, requireString, requireUuid, type AccessTable, type GrpcService,
} from '@domiq/grpc';
import { inTransaction, readModel } from '@domiq/bus';
import { slaTiers } from '@domiq/proto/vocabulary';
import { auditActor, PermissionDeniedError } from '@domiq/auth';
import type { SlaRow } from '../db/routing-sla.entities.ts';
import { WEEKDAYS } from '../domain/business-calendar.ts';
import { defineSlaPolicy, InvalidSlaPolicyError, type SlaOverrides } from '../domain/sla-policy.ts';
import { AGENT_STATUSES } from '../domain/round-robin.ts';
import { upsertSlaPolicy, type UpsertSlaPolicyInput } from '../app/upsert-sla-policy.ts';
import { setAgentStatus } from '../app/set-agent-status.ts';
import { conversationRouting } from '../app/routing.queries.ts';

/** Every field of an UpsertSlaPolicy request checked; the error names the first bad one. */
function parsePolicy(msg: SlaPolicyMsg | undefined): UpsertSlaPolicyInput {
  if (!msg) throw new InvalidArgumentError('policy', 'is required');
  const id = optionalUuid(msg.id, 'policy.id');
  const accountId = requireUuid(msg.accountId, 'policy.account_id');
  const propertyId = optionalUuid(msg.propertyId, 'policy.property_id');
  const name = requireString(msg.name, 'policy.name', 100);
  try {
    return { id, accountId, propertyId, name, isDefault: msg.isDefault, isActive: msg.isActive ?? true, ...defineSlaPolicy({ ...msg, tier: requireEnum(slaTiers, msg.tier, 'policy.tier') }) };
  } catch (err) {
    if (err instanceof InvalidSlaPolicyError) throw new InvalidArgumentError(`policy.${err.field}`, err.problem);
    throw err;
  }
}

function fromOverrides(o: SlaOverrides): Record<string, SlaOverrideMsg> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, { firstResponseMinutes: v.first_response ?? 0, resolutionMinutes: v.resolution ?? 0 }]));
}

function toPolicyMsg(s: SlaRow): SlaPolicyMsg {
  return {
    id: s.id, accountId: s.accountId, propertyId: s.propertyId ?? '', name: s.name, tier: slaTiers.toProto(s.tier),
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
  return defineGrpcService<RoutingSlaServiceServer>({
    name: 'domiq.routing_sla.v1.RoutingSlaService',
    definition: RoutingSlaServiceService,
    access: routingSlaAccess,
    handlers: {
    async upsertSlaPolicy(req, ctx) {
      const input = parsePolicy(req.policy);
      const policy = await inTransaction(orm, auditActor(ctx.caller), (uow) => upsertSlaPolicy(uow, input));
      return { policy: toPolicyMsg(policy) };
    },

    async setAgentStatus(req, ctx) {
      const { accountId } = ctx;
      const agentId = requireUuid(req.agentId, 'agent_id');
      const status = requireOneOf(req.status, 'status', AGENT_STATUSES);
      if (ctx.caller.kind === 'user' && ctx.caller.role === 'agent' && ctx.caller.subject !== agentId) throw new PermissionDeniedError('an agent may set only their own status');
      return inTransaction(orm, auditActor(ctx.caller), (uow) => setAgentStatus(uow, { accountId, agentId, status }));
    },

    async getConversationRouting(req, ctx) {
      const conversationId = requireUuid(req.conversationId, 'conversation_id');
      const r = await conversationRouting(readModel(orm), { accountId: ctx.accountId, conversationId });
      return {
        conversationId,
        assignedAgentId: r.assignedAgentId ?? '',
        assignedAt: r.assignedAt?.toISOString() ?? '',
        firstResponseDueAt: r.firstResponseDueAt?.toISOString() ?? '',
        resolutionDueAt: r.resolutionDueAt?.toISOString() ?? '',
        slaPolicyId: r.slaPolicyId ?? '',
      };
    },
    },
  });
}
