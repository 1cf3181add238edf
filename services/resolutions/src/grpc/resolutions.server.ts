import type { MikroORM } from '@domiq/db';
import { ResolutionsServiceService, type ResolutionsServiceServer, type Resolution as ResolutionMsg } from '@domiq/proto/resolutions';
import { defineGrpcService, optionalUuid, type AccessTable, type GrpcService } from '@domiq/grpc';
import { Resolution } from '../db/resolutions.entities.ts';

// A conversation has few resolutions; an account-wide listing is capped until the API grows paging.
const LIST_LIMIT = 500;

function toResolutionMsg(r: InstanceType<typeof Resolution.class>): ResolutionMsg {
  return {
    id: r.id, accountId: r.accountId, conversationId: r.conversationId, issueType: r.issueType, owningTeam: r.owningTeam,
    status: r.status, priority: r.priority, createdAt: r.createdAt.toISOString(),
  };
}

/** Who may call each method. */
export const resolutionsAccess: AccessTable<ResolutionsServiceServer> = {
  listResolutions: { roles: ['admin', 'supervisor', 'agent', 'engineer'] },
};

export function resolutionsGrpcService(orm: MikroORM): GrpcService {
  const em = () => orm.em.fork({ clear: true });
  return defineGrpcService<ResolutionsServiceServer>({
    name: 'domiq.resolutions.v1.ResolutionsService',
    definition: ResolutionsServiceService,
    access: resolutionsAccess,
    handlers: {
    async listResolutions(req, ctx) {
      const { accountId } = ctx;
      const conversationId = optionalUuid(req.conversationId, 'conversation_id');
      const rows = await em().find(Resolution, conversationId ? { accountId, conversationId } : { accountId }, { orderBy: { createdAt: 'asc', id: 'asc' }, limit: LIST_LIMIT });
      return { resolutions: rows.map(toResolutionMsg) };
    },
    },
  });
}
