import { Migration } from '@mikro-orm/migrations';

// The seed's triggers, indexes and full-text search that the ORM cannot express.
export class Migration20261122200044_seed_triggers extends Migration {
  override up(): void {
    // Seed: message count denormalisation.
    this.addSql(`create or replace function conversations.update_conversation_message_count() returns trigger language plpgsql as $$
begin
  update conversations.conversations
     set message_count = message_count + 1,
         last_message_at = new.created_at,
         last_customer_message_at = case when new.direction = 'inbound' and new.sender_type = 'customer' then new.created_at else last_customer_message_at end,
         last_agent_message_at = case when new.direction = 'outbound' and new.sender_type = 'agent' then new.created_at else last_agent_message_at end
   where id = new.conversation_id;
  return new;
end $$`);
    this.addSql(`create trigger trg_update_message_count after insert on conversations.messages for each row execute function conversations.update_conversation_message_count()`);

    // Seed: state changes are logged to the event_log, which is also our outbox, so they are published too.
    // The payload is the proto3 JSON of ConversationStateChanged; the writer's traceparent is taken from the
    // transaction-local setting domiq.traceparent when the application set one.
    this.addSql(`create or replace function conversations.log_conversation_state_change() returns trigger language plpgsql as $$
begin
  if old.state is distinct from new.state then
    insert into conversations.event_log (event_type, entity_type, entity_id, payload, account_id, conversation_id, customer_id, actor_type, subject, traceparent)
    values ('conversation.state_changed', 'conversation', new.id,
            jsonb_build_object('accountId', new.account_id, 'conversationId', new.id, 'customerId', new.customer_id,
                               'previousState', old.state, 'newState', new.state, 'changedAt', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
            new.account_id, new.id, new.customer_id, 'system', 'conversations.conversation.state_changed',
            nullif(current_setting('domiq.traceparent', true), ''));
  end if;
  return new;
end $$`);
    this.addSql(`create trigger trg_log_conversation_state after update on conversations.conversations for each row execute function conversations.log_conversation_state_change()`);

    this.addSql(`create index idx_conversations_sla_due on conversations.conversations (first_response_due_at) where state in ('open', 'awaiting_agent')`);
    this.addSql(`create index idx_conversations_tags on conversations.conversations using gin (tags)`);
    this.addSql(`create index idx_messages_ai_processed on conversations.messages (ai_processed) where ai_processed = false`);
    this.addSql(`create index idx_messages_content_fts on conversations.messages using gin (to_tsvector('english', content))`);
    // A provider's message id lands once per account and channel even if an upstream replays it under a new event id.
    this.addSql(`create unique index uq_messages_inbound_channel_message on conversations.messages (account_id, channel, channel_message_id) where direction = 'inbound' and channel_message_id is not null`);
  }
}
