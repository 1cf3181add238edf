import type { MikroORM } from '@domiq/db';
import {
  defineGrpcService, InvalidArgumentError, NotFoundError, requireString, requireUuid, type AccessTable, type GrpcService, type PromiseClient,
} from '@domiq/grpc';
import { inTransaction, readModel } from '@domiq/bus';
import { auditActor } from '@domiq/auth';
import type { Logger } from '@domiq/logging';
import { OutboundTargetRefusedError, type OutboundGuard } from '@domiq/outbound';
import type { IdentityServiceClient } from '@domiq/proto/identity';
import {
  ResmanConnectorServiceService, type Integration as IntegrationMsg, type ResmanConnectorServiceServer,
} from '@domiq/proto/resman-connector';
import type { SecretBox } from '@domiq/secrets';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { getLeadSync } from '../app/lead-sync.queries.ts';
import { upsertIntegration } from '../app/upsert-integration.ts';
import type { IntegrationRow } from '../db/integration.entities.ts';
import { PropertyOfAnotherAccountError } from '../domain/resman-integration.ts';
import { sealCredentials } from '../resman/credentials.ts';

function toIntegrationMsg(row: IntegrationRow, integrationPartnerId: string): IntegrationMsg {
  return {
    id: row.id, accountId: row.accountId, propertyId: row.propertyId, baseUrl: row.baseUrl, resmanAccountId: row.resmanAccountId,
    resmanPropertyId: row.resmanPropertyId, integrationPartnerId, defaultAgentId: row.defaultAgentId,
    prospectSourceId: row.prospectSourceId, syncEnabled: row.syncEnabled, syncStatus: row.syncStatus,
  };
}

/** http(s) only, no credentials or query in it (the key travels in the form body), no trailing slash. */
export function requireBaseUrl(value: string | undefined): string {
  const raw = requireString(value, 'base_url', 500);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidArgumentError('base_url', 'must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('base_url', 'must be an http or https URL');
  if (url.username || url.password) throw new InvalidArgumentError('base_url', 'must not carry credentials');
  if (url.search || url.hash) throw new InvalidArgumentError('base_url', 'must not have a query or fragment');
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/**
 * Where base_url points must be a place we may connect to (https, public addresses, or DOMIQ_ALLOWED_TARGETS):
 * refused with INVALID_ARGUMENT before anything is stored. The client checks again on every connection.
 */
export async function requireAllowedTarget(baseUrl: string, outbound: OutboundGuard): Promise<void> {
  try {
    await outbound.checkUrl(baseUrl);
  } catch (err) {
    if (err instanceof OutboundTargetRefusedError) throw new InvalidArgumentError('base_url', err.reason);
    throw new InvalidArgumentError('base_url', `host does not resolve (${(err as { code?: string }).code ?? (err as Error).message})`);
  }
}

/** Who may call each method. */
export const resmanConnectorAccess: AccessTable<ResmanConnectorServiceServer> = {
  upsertIntegration: { roles: ['admin'], property: 'property_id' },
  getLeadSync: { roles: ['admin', 'supervisor', 'agent', 'property_manager'], property: 'property_id' },
};

export function resmanConnectorGrpcService(deps: { orm: MikroORM; identity: PromiseClient<IdentityServiceClient>; box: SecretBox; outbound: OutboundGuard; logger: Logger }): GrpcService {
  return defineGrpcService<ResmanConnectorServiceServer>({
    name: 'domiq.resman_connector.v1.ResmanConnectorService',
    definition: ResmanConnectorServiceService,
    access: resmanConnectorAccess,
    handlers: {
    async upsertIntegration(req, ctx) {
      const { accountId } = ctx;
      const propertyId = requireUuid(req.propertyId, 'property_id');
      const baseUrl = requireBaseUrl(req.baseUrl);
      if (!Number.isSafeInteger(req.resmanAccountId) || req.resmanAccountId <= 0) {
        throw new InvalidArgumentError('resman_account_id', 'must be a positive integer');
      }
      const resmanPropertyId = requireUuid(req.resmanPropertyId, 'resman_property_id');
      const integrationPartnerId = requireString(req.integrationPartnerId, 'integration_partner_id', 100);
      const apiKey = requireString(req.apiKey, 'api_key', 500);
      const defaultAgentId = requireString(req.defaultAgentId, 'default_agent_id', 100);
      const prospectSourceId = requireString(req.prospectSourceId, 'prospect_source_id', 100);
      await requireAllowedTarget(baseUrl, deps.outbound);

      // The property must be this account's: identity owns that fact (NOT_FOUND passes through).
      await deps.identity.getProperty({ accountId, propertyId });

      const input = {
        accountId, propertyId, baseUrl, resmanAccountId: req.resmanAccountId, resmanPropertyId, defaultAgentId, prospectSourceId,
        apiCredentials: sealCredentials(deps.box, { integrationPartnerId, apiKey }),
      };
      const save = () => inTransaction(deps.orm, auditActor(ctx.caller), (uow) => upsertIntegration(uow, input));
      let saved;
      try {
        // Two first saves of one property race on its unique key: the loser saves again, as an update.
        saved = await save().catch((err: unknown) => {
          if (err instanceof UniqueConstraintViolationException) return save();
          throw err;
        });
      } catch (err) {
        if (err instanceof PropertyOfAnotherAccountError) throw new NotFoundError(err.message);
        throw err;
      }
      deps.logger.info({ account_id: accountId, property_id: propertyId, resman_account_id: req.resmanAccountId }, 'resman integration saved');
      return { integration: toIntegrationMsg(saved.integration, integrationPartnerId) };
    },

    async getLeadSync(req, ctx) {
      const propertyId = requireUuid(req.propertyId, 'property_id');
      const customerId = requireUuid(req.customerId, 'customer_id');
      const sync = await getLeadSync(readModel(deps.orm), ctx.accountId, { propertyId, customerId });
      if (!sync) throw new NotFoundError(`no ResMan sync for customer ${customerId} at property ${propertyId}`);
      return {
        prospectId: sync.prospectId ?? '', personId: sync.personId ?? '', syncStatus: sync.syncStatus, syncVersion: sync.syncVersion,
        communications: sync.communications.map((c) => ({ messageId: c.messageId, eventType: c.eventType ?? '', syncStatus: c.syncStatus ?? '' })),
        lastSyncAt: sync.lastSyncAt?.toISOString() ?? '',
      };
    },
    },
  });
}
