import { appendOnlySql, type SqlMigration } from '@domiq/db';

/**
 * The platform's tables in every service's schema: the seed's append-only `event_log` (the outbox), which rows the
 * relay has published, and which events each consumer has handled; the NOTIFY that wakes the relay. Idempotent:
 * schemas made before this set existed already have all of it from their service's first migrations.
 */
export const outboxMigration: SqlMigration = {
  name: '0001_outbox',
  up: (schema) => {
    const s = `"${schema}"`;
    return [
      `create table if not exists ${s}.event_log (
        id bigserial primary key,
        event_type varchar(50) not null,
        event_version int not null default 1,
        entity_type varchar(50) not null,
        entity_id uuid not null,
        payload jsonb not null,
        actor_type varchar(20) null constraint event_log_actor_type_check check (actor_type in ('user', 'system', 'ai', 'automation', 'api')),
        actor_id uuid null,
        actor_ip inet null,
        actor_user_agent text null,
        account_id uuid null,
        conversation_id uuid null,
        customer_id uuid null,
        resolution_id uuid null,
        correlation_id uuid null,
        causation_id bigint null constraint event_log_causation_id_fkey references ${s}.event_log (id),
        causation_msg_id varchar(100) null,
        subject varchar(200) not null,
        traceparent varchar(64) null,
        created_at timestamptz not null default now()
      )`,
      `create index if not exists idx_event_log_account on ${s}.event_log (account_id)`,
      `create index if not exists idx_event_log_conversation on ${s}.event_log (conversation_id)`,
      `create index if not exists idx_event_log_customer on ${s}.event_log (customer_id)`,
      `create index if not exists idx_event_log_correlation on ${s}.event_log (correlation_id)`,
      `create index if not exists idx_event_log_created on ${s}.event_log (created_at)`,
      `create index if not exists idx_event_log_entity on ${s}.event_log (entity_type, entity_id)`,
      `create index if not exists idx_event_log_type on ${s}.event_log (event_type)`,
      ...appendOnlySql(schema, 'event_log'),
      `create or replace function ${s}.notify_outbox() returns trigger language plpgsql as $$
begin
  perform pg_notify('domiq_outbox_${schema}', '');
  return null;
end $$`,
      `create or replace trigger trg_event_log_notify after insert on ${s}.event_log for each statement execute function ${s}.notify_outbox()`,
      `create table if not exists ${s}.event_log_publication (
        event_id bigint primary key,
        stream_seq bigint null,
        duplicate boolean not null default false,
        published_at timestamptz not null default now()
      )`,
      `create table if not exists ${s}.processed_event (
        consumer varchar(100) not null,
        event_id varchar(100) not null,
        subject varchar(200) not null,
        processed_at timestamptz not null default now(),
        primary key (consumer, event_id)
      )`,
    ];
  },
};
