import type { UnitOfWork } from '@domiq/bus';
import { FailedPreconditionError, NotFoundError } from '@domiq/grpc';
import { channels, type Channel } from '@domiq/proto/vocabulary';
import { events } from '@domiq/proto/events';
import { consentsOf, writeConsent } from '../db/consent.repository.ts';
import { lockCustomers, type ConsentView } from '../db/customer.repository.ts';
import { consentChanges, consentSourceToProto, consentStatusToProto, type ConsentSource, type ConsentStatus } from '../domain/consent.ts';

export interface SetConsentInput {
  accountId: string;
  customerId: string;
  channel: Channel;
  status: ConsentStatus;
  /** Where the customer said it (not identity's own 'merge' / 'unmerge'). */
  source: ConsentSource;
  /** Who records it (the token's subject). */
  actor: string;
}

/**
 * Records a customer's consent for one channel, the customer's row locked (a merge or an erasure of it waits, and
 * waits for it). The same status from the same source again changes nothing and emits nothing (a retry); anything
 * else replaces the channel's consent and emits identity.customer.consent_changed. A merged customer's consent is
 * its target's, and an erased one has none: FailedPreconditionError.
 */
export async function setConsent(uow: UnitOfWork, input: SetConsentInput): Promise<{ consent: ConsentView; changed: boolean }> {
  const { em } = uow;
  const { accountId, customerId, channel, status, source, actor } = input;
  const [customer] = await lockCustomers(em, accountId, [customerId]);
  if (!customer) throw new NotFoundError(`customer ${customerId} not found`);
  if (customer.erasedAt) throw new FailedPreconditionError(`customer ${customerId} is erased`);
  if (customer.status === 'merged') throw new FailedPreconditionError(`customer ${customerId} is merged into ${customer.mergedIntoId}: set the consent there`);
  const current = (await consentsOf(em, accountId, [customerId])).find((c) => c.channel === channel) ?? null;
  if (current && !consentChanges(current, { status, source })) return { consent: current, changed: false };
  const consent: ConsentView = { channel, status, source, recordedAt: new Date(), recordedBy: actor };
  await writeConsent(em, accountId, customerId, consent);
  uow.emit(events.identityCustomerConsentChanged, {
    accountId, customerId, channel: channels.toProto(channel), status: consentStatusToProto(status), source: consentSourceToProto(source), recordedAt: consent.recordedAt.toISOString(),
  }, { entityId: customerId, accountId, customerId });
  return { consent, changed: true };
}
