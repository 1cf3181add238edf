import type { MikroORM } from '@domiq/db';
import { ResolutionsServiceService, type ResolutionsServiceServer, type Resolution as ResolutionMsg } from '@domiq/proto/resolutions';
import { defineGrpcService, optionalUuid, type AccessTable, type GrpcService } from '@domiq/grpc';
import { readModel } from '@domiq/bus';
import { issueTypes, severities } from '@domiq/proto/vocabulary';
import type { ResolutionRow } from '../db/resolutions.entities.ts';
import { listResolutions } from '../app/resolution.queries.ts';

function toResolutionMsg(r: ResolutionRow): ResolutionMsg {
  return {
    id: r.id, accountId: r.accountId, conversationId: r.conversationId, issueType: issueTypes.toProto(r.issueType), owningTeam: r.owningTeam,
    status: r.status, priority: severities.toProto(r.priority), createdAt: r.createdAt.toISOString(),
  };
}

/** Who may call each method. */
export const resolutionsAccess: AccessTable<ResolutionsServiceServer> = {
  listResolutions: { roles: ['admin', 'supervisor', 'agent', 'engineer'] },
};

export function resolutionsGrpcService(orm: MikroORM): GrpcService {
  return defineGrpcService<ResolutionsServiceServer>({
    name: 'domiq.resolutions.v1.ResolutionsService',
    definition: ResolutionsServiceService,
    access: resolutionsAccess,
    handlers: {
    async listResolutions(req, ctx) {
      const conversationId = optionalUuid(req.conversationId, 'conversation_id');
      const rows = await listResolutions(readModel(orm), { accountId: ctx.accountId, conversationId });
      return { resolutions: rows.map(toResolutionMsg) };
    },
    },
  });
}
