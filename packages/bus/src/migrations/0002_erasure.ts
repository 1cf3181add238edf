import type { SqlMigration } from '@domiq/db';

/**
 * GDPR erasure of the append-only event_log: the one change the guard allows. `erase_event_payloads` replaces the
 * values of the named top-level payload keys with "[erased]" in the rows of one customer (event_log.customer_id) or of
 * the given entities (a service that never knew the customer, e.g. the gateway's inbound messages), and records how
 * many rows it changed in `event_log_erasure` (ids and counts, nothing personal). Only the payload may change, and
 * only inside that function (a transaction-local setting it sets and clears), and only to "[erased]" values of keys the
 * payload had (the guard checks the change itself, as any session can set the setting): every other UPDATE, DELETE and
 * TRUNCATE is still refused. What was already published stays in the JetStream streams until their retention drops it.
 */
export const erasureMigration: SqlMigration = {
  name: '0002_erasure',
  up: (schema) => {
    const s = `"${schema}"`;
    return [
      `create or replace function ${s}.refuse_event_log_change() returns trigger language plpgsql as $$
begin
  -- The setting alone proves nothing (any session can set it): the change itself must be an erasure, the same keys
  -- with every changed value "[erased]", every other column as it was.
  if tg_op = 'UPDATE' and current_setting('domiq.erasing_event_payloads', true) = 'on'
     and (to_jsonb(new) - 'payload') = (to_jsonb(old) - 'payload')
     and jsonb_typeof(new.payload) = 'object' and jsonb_typeof(old.payload) = 'object'
     and (select coalesce(array_agg(k order by k), '{}') from jsonb_object_keys(new.payload) as k)
         = (select coalesce(array_agg(k order by k), '{}') from jsonb_object_keys(old.payload) as k)
     and not exists (select 1 from jsonb_each(new.payload) as n join jsonb_each(old.payload) as o on o.key = n.key
                      where n.value is distinct from o.value and n.value <> to_jsonb('[erased]'::text)) then
    return new;
  end if;
  raise exception 'event_log is append-only: % refused', tg_op using errcode = 'raise_exception';
end $$`,
      `create table if not exists ${s}.event_log_erasure (
        id bigserial primary key,
        account_id uuid not null,
        customer_id uuid null,
        entity_count int not null default 0,
        keys text[] not null,
        events_redacted int not null,
        erased_at timestamptz not null default now()
      )`,
      `create or replace function ${s}.erase_event_payloads(p_account uuid, p_customer uuid, p_entities uuid[], p_keys text[]) returns integer
       language plpgsql as $$
declare n integer;
begin
  perform set_config('domiq.erasing_event_payloads', 'on', true);
  update ${s}.event_log e
     set payload = (select jsonb_object_agg(j.k, case when j.k = any(p_keys) then to_jsonb('[erased]'::text) else j.v end) from jsonb_each(e.payload) as j(k, v))
   where e.account_id = p_account
     and ((p_customer is not null and e.customer_id = p_customer) or e.entity_id = any(coalesce(p_entities, '{}'::uuid[])))
     and exists (select 1 from jsonb_object_keys(e.payload) as k where k = any(p_keys) and e.payload -> k <> to_jsonb('[erased]'::text));
  get diagnostics n = row_count;
  perform set_config('domiq.erasing_event_payloads', 'off', true);
  insert into ${s}.event_log_erasure (account_id, customer_id, entity_count, keys, events_redacted)
  values (p_account, p_customer, coalesce(cardinality(p_entities), 0), p_keys, n);
  return n;
end $$`,
    ];
  },
};
