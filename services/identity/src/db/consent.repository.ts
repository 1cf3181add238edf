// customer_consents: one row per customer and channel, the latest word (the events keep the history).
import { pgTextArray, query, rowDate, type EntityManager } from '@domiq/db';
import type { Channel } from '@domiq/proto/vocabulary';
import type { ConsentSource, ConsentStatus } from '../domain/consent.ts';
import type { ConsentView } from './customer.repository.ts';

const S = '"identity"';

export interface CustomerConsentView extends ConsentView {
  customerId: string;
}

/** The consents of these customers of the account, by customer and channel. */
export async function consentsOf(em: EntityManager, accountId: string, customerIds: readonly string[]): Promise<CustomerConsentView[]> {
  if (customerIds.length === 0) return [];
  const rows = await query<{ customer_id: string; channel: Channel; status: ConsentStatus; source: ConsentSource; recorded_at: Date | string; recorded_by: string }>(em,
    `select customer_id, channel, status, source, recorded_at, recorded_by from ${S}.customer_consents
      where account_id = ? and customer_id = any(?::uuid[]) order by customer_id, channel`,
    [accountId, pgTextArray(customerIds)],
  );
  return rows.map((r) => ({ customerId: r.customer_id, channel: r.channel, status: r.status, source: r.source, recordedAt: rowDate(r.recorded_at), recordedBy: r.recorded_by }));
}

/** Records one channel's consent of a customer (replacing what was recorded for that channel). */
export async function writeConsent(em: EntityManager, accountId: string, customerId: string, consent: ConsentView): Promise<void> {
  await query(em,
    `insert into ${S}.customer_consents (account_id, customer_id, channel, status, source, recorded_at, recorded_by) values (?, ?, ?, ?, ?, ?, ?)
     on conflict (account_id, customer_id, channel) do update
        set status = excluded.status, source = excluded.source, recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by`,
    [accountId, customerId, consent.channel, consent.status, consent.source, consent.recordedAt, consent.recordedBy],
  );
}

/** Forgets one channel's consent of a customer (an unmerge taking back what its merge copied). */
export async function deleteConsent(em: EntityManager, accountId: string, customerId: string, channel: Channel): Promise<void> {
  await query(em, `delete from ${S}.customer_consents where account_id = ? and customer_id = ? and channel = ?`, [accountId, customerId, channel]);
}

/** Deletes every consent of these customers (an erasure); answers how many went. */
export async function deleteConsentsOf(em: EntityManager, accountId: string, customerIds: readonly string[]): Promise<number> {
  if (customerIds.length === 0) return 0;
  const [row] = await query<{ n: number }>(em,
    `with gone as (delete from ${S}.customer_consents where account_id = ? and customer_id = any(?::uuid[]) returning 1) select count(*)::int as n from gone`,
    [accountId, pgTextArray(customerIds)],
  );
  return row!.n;
}
