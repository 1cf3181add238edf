import { defineHandler, eventEnum, eventUuid, optionalEventUuid, PoisonMessageError } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import { roles } from '@domiq/proto/vocabulary';
import { registerAgent } from '../app/register-agent.ts';
import { isRoutableRole } from '../domain/round-robin.ts';

/**
 * identity.user.created -> the agents read model (registerAgent). Other roles are acked and left out, before
 * their payload is checked: routing has no use for it.
 */
export const userCreatedConsumer = defineHandler({
  durable: 'routing-sla-user-created',
  contract: events.identityUserCreated,
  async handle(ctx) {
    const { payload: p, logger } = ctx;
    const role = eventEnum(roles, p.role, 'role');
    if (!isRoutableRole(role)) {
      logger.debug({ role }, 'user is not routable; not an agent');
      return;
    }
    const accountId = eventUuid(p.accountId, 'account_id');
    const agentId = eventUuid(p.userId, 'user_id');
    const teamId = optionalEventUuid(p.teamId, 'team_id');
    const outcome = await registerAgent(ctx, { accountId, agentId, teamId, role, skills: p.skills, maxConcurrentConversations: p.maxConcurrentConversations });
    if (outcome === 'held_by_another_account') throw new PoisonMessageError(`user ${agentId} already belongs to another account`);
  },
});
