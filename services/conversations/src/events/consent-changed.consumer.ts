// identity.customer.consent_changed -> the consent read model (app/record-consent.ts): SendReply refuses a channel the
// customer opted out of.
import { defineHandler, eventEnum, eventTimestamp, eventUuid } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import type { CustomerConsentChanged } from '@domiq/proto/identity/events';
import { channels } from '@domiq/proto/vocabulary';
import { recordConsent } from '../app/record-consent.ts';

const STATUS = { CONSENT_STATUS_OPTED_IN: 'opted_in', CONSENT_STATUS_OPTED_OUT: 'opted_out' } as const;

export function consentChangedConsumer() {
  return defineHandler<CustomerConsentChanged>({
    durable: 'conversations-consent-changed',
    contract: events.identityCustomerConsentChanged,
    async handle({ em, payload: p }) {
      await recordConsent(em, {
        accountId: eventUuid(p.accountId, 'account_id'), customerId: eventUuid(p.customerId, 'customer_id'), channel: eventEnum(channels, p.channel, 'channel'),
        status: STATUS[p.status as keyof typeof STATUS] ?? null, recordedAt: eventTimestamp(p.recordedAt, 'recorded_at', new Date()),
      });
    },
  });
}
