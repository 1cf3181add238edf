import { query, type EntityManager } from '@domiq/db';

/**
 * GDPR erasure in the service's own event_log (migration 0002_erasure): the named top-level payload keys become
 * "[erased]" in the events of `customerId` (event_log.customer_id) and of `entityIds`, in the caller's transaction.
 * Returns how many events changed. Keys that are not personal stay, so the audit trail keeps its shape and ids.
 */
export async function erasePersonalEventData(em: EntityManager, schema: string, target: { accountId: string; customerId: string | null; entityIds?: readonly string[] }, keys: readonly string[]): Promise<number> {
  const [row] = await query<{ n: number }>(em,
    `select "${schema}".erase_event_payloads(?::uuid, ?::uuid, (select coalesce(array_agg(x::uuid), '{}') from jsonb_array_elements_text(?::jsonb) as x), (select array_agg(x) from jsonb_array_elements_text(?::jsonb) as x)) as n`,
    [target.accountId, target.customerId, JSON.stringify(target.entityIds ?? []), JSON.stringify(keys)]);
  return Number(row?.n ?? 0);
}
