import type { MikroORM } from '@domiq/db';
import {
  implement, InvalidArgumentError, NotFoundError, requireString, requireUuid, type GrpcService, type PromiseClient,
} from '@domiq/grpc';
import type { Logger } from '@domiq/logging';
import type { IdentityServiceClient } from '@domiq/proto/identity';
import {
  ResmanConnectorServiceService, type Integration as IntegrationMsg, type ResmanConnectorServiceServer,
} from '@domiq/proto/resman-connector';
import type { SecretBox } from '@domiq/secrets';
import { CommunicationLogSync, LeadSyncMapping, ResmanIntegration } from '../db/resman-connector.entities.ts';
import { sealCredentials } from '../resman/credentials.ts';
import { UniqueConstraintViolationException } from '@mikro-orm/core';

type IntegrationRow = InstanceType<typeof ResmanIntegration.class>;

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

export function resmanConnectorGrpcService(deps: { orm: MikroORM; identity: PromiseClient<IdentityServiceClient>; box: SecretBox; logger: Logger }): GrpcService {
  const em = () => deps.orm.em.fork({ clear: true });
  const impl = implement<ResmanConnectorServiceServer>({
    async upsertIntegration(req) {
      const accountId = requireUuid(req.accountId, 'account_id');
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

      // The property must be this account's: identity owns that fact (NOT_FOUND passes through).
      await deps.identity.getProperty({ accountId, propertyId });

      const fields = {
        baseUrl, resmanAccountId: req.resmanAccountId, resmanPropertyId, defaultAgentId, prospectSourceId,
        apiCredentials: sealCredentials(deps.box, { integrationPartnerId, apiKey }),
        syncEnabled: true, syncStatus: 'active', errorCount: 0,
      };
      const save = () => em().transactional(async (tx) => {
        const existing = await tx.findOne(ResmanIntegration, { propertyId });
        if (existing) {
          if (existing.accountId !== accountId) throw new NotFoundError(`property ${propertyId} not found`);
          return Object.assign(existing, fields);
        }
        return tx.create(ResmanIntegration, { accountId, propertyId, ...fields });
      });
      // Two first saves of one property race on its unique key: the loser saves again, as an update.
      const row = await save().catch((err: unknown) => {
        if (err instanceof UniqueConstraintViolationException) return save();
        throw err;
      });
      deps.logger.info({ account_id: accountId, property_id: propertyId, resman_account_id: req.resmanAccountId }, 'resman integration saved');
      return { integration: toIntegrationMsg(row, integrationPartnerId) };
    },

    async getLeadSync(req) {
      const accountId = requireUuid(req.accountId, 'account_id');
      const propertyId = requireUuid(req.propertyId, 'property_id');
      const customerId = requireUuid(req.customerId, 'customer_id');
      const fork = em();
      const mapping = await fork.findOne(LeadSyncMapping, { accountId, propertyId, customerId });
      const logged = await fork.find(CommunicationLogSync, { accountId, propertyId, customerId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
      if (!mapping && logged.length === 0) throw new NotFoundError(`no ResMan sync for customer ${customerId} at property ${propertyId}`);
      const communications = logged.map((c) => ({ messageId: c.messageId, eventType: c.resmanEventType ?? '', syncStatus: c.syncStatus ?? '' }));
      if (!mapping) {
        const failed = logged.some((c) => c.syncStatus === 'failed');
        return { prospectId: '', personId: '', syncStatus: failed ? 'failed' : 'syncing', syncVersion: 0, communications, lastSyncAt: '' };
      }
      return {
        prospectId: mapping.resmanLeadId, personId: mapping.resmanPersonId ?? '', syncStatus: mapping.syncStatus, syncVersion: mapping.syncVersion,
        communications, lastSyncAt: mapping.lastSyncAt?.toISOString() ?? '',
      };
    },
  }, deps.logger);
  return { name: 'domiq.resman_connector.v1.ResmanConnectorService', definition: ResmanConnectorServiceService, implementation: impl };
}
