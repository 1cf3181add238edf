import { Migration } from '@mikro-orm/migrations';

// Messages can be stored out of arrival order (consumers run concurrently), so the denormalised
// "last ..._at" columns only ever move forward; the timeline itself is ordered by messages.created_at.
export class Migration20261122203400_timeline_order extends Migration {
  override up(): void {
    this.addSql(`create or replace function conversations.update_conversation_message_count() returns trigger language plpgsql as $$
begin
  update conversations.conversations
     set message_count = message_count + 1,
         last_message_at = greatest(last_message_at, new.created_at),
         last_customer_message_at = case when new.direction = 'inbound' and new.sender_type = 'customer' then greatest(last_customer_message_at, new.created_at) else last_customer_message_at end,
         last_agent_message_at = case when new.direction = 'outbound' and new.sender_type = 'agent' then greatest(last_agent_message_at, new.created_at) else last_agent_message_at end
   where id = new.conversation_id;
  return new;
end $$`);
  }
}
