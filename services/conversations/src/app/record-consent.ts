import { query, type EntityManager } from '@domiq/db';

const S = '"conversations"';

export interface ConsentChange {
  accountId: string;
  customerId: string;
  channel: string;
  /** opted_in, opted_out, or null (none on record). */
  status: 'opted_in' | 'opted_out' | null;
  recordedAt: Date;
}

/** Keeps the newest consent per customer and channel (an older change arriving late changes nothing). One statement. */
export async function recordConsent(em: EntityManager, c: ConsentChange): Promise<void> {
  await query(em,
    `insert into ${S}.customer_consents (account_id, customer_id, channel, status, recorded_at) values (?, ?, ?, ?, ?)
     on conflict (account_id, customer_id, channel) do update set status = excluded.status, recorded_at = excluded.recorded_at
      where ${S}.customer_consents.recorded_at <= excluded.recorded_at`,
    [c.accountId, c.customerId, c.channel, c.status, c.recordedAt.toISOString()]);
}

/** Whether the customer opted out of the channel (as identity last said). */
export async function optedOut(em: EntityManager, accountId: string, customerId: string, channel: string): Promise<{ since: Date } | null> {
  const [row] = await query<{ recorded_at: Date | string }>(em,
    `select recorded_at from ${S}.customer_consents where account_id = ? and customer_id = ? and channel = ? and status = 'opted_out'`, [accountId, customerId, channel]);
  return row ? { since: new Date(row.recorded_at) } : null;
}
