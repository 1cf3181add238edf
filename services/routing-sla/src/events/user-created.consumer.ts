import { defineHandler, PoisonMessageError } from '@domiq/bus';
import { isUuid } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { Agent } from '../db/routing-sla.entities.ts';
import { ROUTABLE_ROLES } from '../domain/round-robin.ts';

/**
 * identity.user.created -> the agents read model. Only routable roles enter it; a new agent starts offline
 * with nothing assigned. A repeat (same user) refreshes the profile fields and keeps presence and load.
 */
export const userCreatedConsumer = defineHandler({
  durable: 'routing-sla-user-created',
  contract: events.identityUserCreated,
  async handle({ em, payload, logger }) {
    if (!(ROUTABLE_ROLES as readonly string[]).includes(payload.role)) {
      logger.debug({ role: payload.role }, 'user is not routable; not an agent');
      return;
    }
    if (!isUuid(payload.accountId)) throw new PoisonMessageError(`account_id is not a UUID: "${payload.accountId}"`);
    if (!isUuid(payload.userId)) throw new PoisonMessageError(`user_id is not a UUID: "${payload.userId}"`);
    if (payload.teamId && !isUuid(payload.teamId)) throw new PoisonMessageError(`team_id is not a UUID: "${payload.teamId}"`);
    const accountId = payload.accountId.toLowerCase();
    const agentId = payload.userId.toLowerCase();
    const profile = {
      teamId: payload.teamId ? payload.teamId.toLowerCase() : null,
      role: payload.role,
      skills: payload.skills,
      maxConcurrentConversations: payload.maxConcurrentConversations > 0 ? payload.maxConcurrentConversations : 5,
    };
    const existing = await em.findOne(Agent, { agentId });
    if (existing && existing.accountId !== accountId) throw new PoisonMessageError(`user ${agentId} already belongs to another account`);
    if (existing) em.assign(existing, profile);
    else em.create(Agent, { agentId, accountId, ...profile });
  },
});
