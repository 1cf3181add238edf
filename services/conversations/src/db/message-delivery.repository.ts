// Reply statuses, set-based: a batch of delivery updates reads its messages in one statement and writes them in one.
// Both run in the caller's transaction.
import { query, rowDate, type EntityManager } from '@domiq/db';

export interface DeliveryRow {
  id: string;
  accountId: string;
  status: string;
  channelMessageId: string | null;
  deliveredAt: Date | null;
  readAt: Date | null;
  errorMessage: string | null;
}

/** The outbound messages named (by account and id), row-locked until the transaction ends. One statement. */
export async function lockOutboundMessages(em: EntityManager, keys: ReadonlyArray<{ accountId: string; id: string }>): Promise<Map<string, DeliveryRow>> {
  const rows = await query<{ id: string; account_id: string; status: string; channel_message_id: string | null; delivered_at: Date | string | null; read_at: Date | string | null; error_message: string | null }>(em,
    `select m.id, m.account_id, m.status, m.channel_message_id, m.delivered_at, m.read_at, m.error_message
       from json_to_recordset(?::json) as k(account_id uuid, id uuid)
       join "conversations".messages m on m.id = k.id and m.account_id = k.account_id and m.direction = 'outbound'
      order by m.id
        for update of m`,
    [JSON.stringify(keys.map((k) => ({ account_id: k.accountId, id: k.id })))],
  );
  return new Map(rows.map((r) => [r.id, {
    id: r.id, accountId: r.account_id, status: r.status, channelMessageId: r.channel_message_id, deliveredAt: rowDate(r.delivered_at), readAt: rowDate(r.read_at), errorMessage: r.error_message,
  }]));
}

/** Writes the rows' delivery columns. One statement. */
export async function updateDeliveries(em: EntityManager, rows: readonly DeliveryRow[]): Promise<void> {
  if (rows.length === 0) return;
  await query(em,
    `update "conversations".messages m
        set status = u.status, channel_message_id = u.channel_message_id, delivered_at = u.delivered_at, read_at = u.read_at, error_message = u.error_message
       from json_to_recordset(?::json) as u(id uuid, account_id uuid, status text, channel_message_id text, delivered_at timestamptz, read_at timestamptz, error_message text)
      where m.id = u.id and m.account_id = u.account_id`,
    [JSON.stringify(rows.map((r) => ({
      id: r.id, account_id: r.accountId, status: r.status, channel_message_id: r.channelMessageId,
      delivered_at: r.deliveredAt?.toISOString() ?? null, read_at: r.readAt?.toISOString() ?? null, error_message: r.errorMessage,
    })))],
  );
}
