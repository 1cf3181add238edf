// Use case: an admin connects a property to ResMan, or changes its settings; audited by resman-connector.integration.upserted.
import type { UnitOfWork } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import { ResmanIntegration, type IntegrationRow } from '../db/integration.entities.ts';
import { PropertyOfAnotherAccountError } from '../domain/resman-integration.ts';

export interface UpsertIntegrationInput {
  accountId: string;
  propertyId: string;
  baseUrl: string;
  resmanAccountId: number;
  resmanPropertyId: string;
  defaultAgentId: string;
  prospectSourceId: string;
  /** SecretBox ciphertext of the partner id and API key (resman/credentials.ts); always replaced. */
  apiCredentials: string;
}

/**
 * One integration per property: saved, enabled and active again with its error count cleared. Throws
 * PropertyOfAnotherAccountError when the property's integration is another account's. Two first saves of one
 * property race on its unique key: the loser's commit fails, and saving again makes it an update.
 */
export async function upsertIntegration(uow: UnitOfWork, input: UpsertIntegrationInput): Promise<{ integration: IntegrationRow; created: boolean }> {
  const { accountId, propertyId } = input;
  const existing = await uow.em.findOne(ResmanIntegration, { propertyId });
  if (existing && existing.accountId !== accountId) throw new PropertyOfAnotherAccountError(propertyId);
  const fields = {
    baseUrl: input.baseUrl, resmanAccountId: input.resmanAccountId, resmanPropertyId: input.resmanPropertyId, defaultAgentId: input.defaultAgentId,
    prospectSourceId: input.prospectSourceId, apiCredentials: input.apiCredentials, syncEnabled: true, syncStatus: 'active', errorCount: 0,
  };
  const integration = existing ? Object.assign(existing, fields) : uow.em.create(ResmanIntegration, { id: crypto.randomUUID(), accountId, propertyId, ...fields });
  uow.emit(events.integrationUpserted, {
    accountId, propertyId, integrationId: integration.id, baseUrl: input.baseUrl, resmanAccountId: input.resmanAccountId, created: !existing, credentialsChanged: true,
  }, { entityId: integration.id, accountId });
  return { integration, created: !existing };
}
