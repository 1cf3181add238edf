import { Migration } from '@mikro-orm/migrations';

// State changes are no longer logged by the database: the use case emits conversation.state_changed itself (it
// knows the actor and the causation, and the codec and size checks apply). The seed's trigger becomes the guard
// that this happened: at commit, every state change of the transaction must have its event in the same
// transaction, or the commit fails.
export class Migration20261202000000_state_change_guard extends Migration {
  override up(): void {
    this.addSql(`drop trigger if exists trg_log_conversation_state on conversations.conversations`);
    // Rows the transaction wrote carry its id in xmin (events are written in the top-level transaction, not in a
    // savepoint, whose rows would carry the subtransaction's id); idx_event_log_entity finds the candidates. The
    // payload is the contract's proto3 JSON: a state is its ConversationState enum name (escalated is
    // CONVERSATION_STATE_ESCALATED).
    this.addSql(`create or replace function conversations.log_conversation_state_change() returns trigger language plpgsql as $$
begin
  if not exists (
    select 1 from conversations.event_log e
     where e.entity_type = 'conversation' and e.entity_id = new.id
       and e.event_type = 'conversation.state_changed'
       and e.xmin = pg_current_xact_id()::xid
       and e.payload->>'previousState' = 'CONVERSATION_STATE_' || upper(old.state)
       and e.payload->>'newState' = 'CONVERSATION_STATE_' || upper(new.state)) then
    raise exception 'conversation % changed state from % to % without a conversation.state_changed event in the same transaction', new.id, old.state, new.state
      using errcode = 'integrity_constraint_violation', hint = 'change a conversation''s state through the conversations service''s use cases';
  end if;
  return null;
end $$`);
    this.addSql(`create constraint trigger trg_log_conversation_state after update on conversations.conversations deferrable initially deferred
  for each row when (old.state is distinct from new.state) execute function conversations.log_conversation_state_change()`);
  }
}
