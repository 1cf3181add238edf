import type { UnitOfWork } from '@domiq/bus';
import { NotFoundError } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { slaTiers } from '@domiq/proto/vocabulary';
import { Sla, type SlaRow } from '../db/routing-sla.entities.ts';
import type { SlaPolicyDefinition } from '../domain/sla-policy.ts';

/** A policy to save: its terms from defineSlaPolicy, plus where it applies. */
export interface UpsertSlaPolicyInput extends SlaPolicyDefinition {
  /** Null creates a policy under a new id; a given id that is not there yet creates it under that id. */
  id: string | null;
  accountId: string;
  /** Null for the account-wide policy. */
  propertyId: string | null;
  name: string;
  isDefault: boolean;
  isActive: boolean;
}

/** Creates or replaces one SLA policy of an account, with its `routing.sla_policy.upserted` event (the audit record). */
export async function upsertSlaPolicy(uow: UnitOfWork, input: UpsertSlaPolicyInput): Promise<SlaRow> {
  const { id, ...fields } = input;
  const existing = id ? await uow.em.findOne(Sla, { id }) : null;
  // Another account's id is indistinguishable from a missing one.
  if (existing && existing.accountId !== fields.accountId) throw new NotFoundError(`sla policy ${id} not found`);
  const row = existing ? uow.em.assign(existing, fields) : uow.em.create(Sla, { id: id ?? crypto.randomUUID(), ...fields });
  uow.emit(events.slaPolicyUpserted, {
    accountId: fields.accountId, slaPolicyId: row.id, propertyId: fields.propertyId ?? '', name: fields.name, tier: slaTiers.toProto(fields.tier), created: !existing,
  }, { entityId: row.id, accountId: fields.accountId });
  return row;
}
