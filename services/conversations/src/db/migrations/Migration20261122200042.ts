import { Migration } from '@mikro-orm/migrations';

export class Migration20261122200042 extends Migration {

  override name = 'Migration20261122200042';

  override up(): void | Promise<void> {
    this.addSql(`create schema if not exists "conversations";`);
    this.addSql(`create table "conversations"."ai_annotations" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "message_id" uuid not null, "intent" varchar(50) not null, "intent_confidence" numeric(3,2) not null, "severity" varchar(10) not null, "severity_confidence" numeric(3,2) not null, "sentiment" varchar(20) not null, "sentiment_score" numeric(4,3) null, "entities" jsonb not null default '{}', "suspected_root_cause" text null, "suggested_action" text null, "suggested_response" text null, "suggested_kb_articles" text[] null, "suggested_skills" text[] null, "suggested_team_id" uuid null, "escalation_recommended" boolean not null default false, "model_version" varchar(50) not null, "processing_time_ms" int null, "human_corrected" boolean not null default false, "corrected_by_id" uuid null, "corrected_at" timestamptz null, "correction_notes" text null, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_ai_annotations_message" on "conversations"."ai_annotations" ("message_id");`);
    this.addSql(`create index "idx_ai_annotations_intent" on "conversations"."ai_annotations" ("intent");`);
    this.addSql(`create index "idx_ai_annotations_severity" on "conversations"."ai_annotations" ("severity");`);
    this.addSql(`create index "idx_ai_annotations_human_corrected" on "conversations"."ai_annotations" ("human_corrected");`);

    this.addSql(`create table "conversations"."attachments" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "message_id" uuid not null, "filename" varchar(255) not null, "original_filename" varchar(255) not null, "content_type" varchar(100) not null, "size_bytes" bigint not null, "storage_provider" varchar(50) not null default 'local', "storage_url" text not null, "storage_key" text not null, "is_image" boolean not null default false, "thumbnail_url" text null, "dimensions" jsonb null, "virus_scanned" boolean not null default false, "virus_scan_result" varchar(20) null, "created_at" timestamptz not null default now(), "expires_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "idx_attachments_message" on "conversations"."attachments" ("message_id");`);
    this.addSql(`create index "idx_attachments_content_type" on "conversations"."attachments" ("content_type");`);

    this.addSql(`create table "conversations"."conversations" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "property_id" uuid null, "customer_id" uuid not null, "state" varchar(30) not null default 'open', "previous_state" varchar(30) null, "channels_used" text[] not null default '{}', "current_channel" varchar(30) null, "initial_channel" varchar(30) not null, "assigned_agent_id" uuid null, "assigned_team_id" uuid null, "intent" varchar(50) null, "severity" varchar(10) null, "sentiment" varchar(20) null, "required_skills" text[] not null default '{}', "sla_tier" varchar(20) not null default 'standard', "first_response_at" timestamptz null, "first_response_due_at" timestamptz null, "resolution_due_at" timestamptz null, "sla_breached" boolean not null default false, "resolution_id" uuid null, "subject" varchar(500) null, "summary" text null, "tags" text[] not null default '{}', "metadata" jsonb not null default '{}', "message_count" int not null default 0, "internal_note_count" int not null default 0, "last_message_at" timestamptz null, "last_customer_message_at" timestamptz null, "last_agent_message_at" timestamptz null, "resolved_at" timestamptz null, "reopened_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_conversations_customer" on "conversations"."conversations" ("customer_id");`);
    this.addSql(`create index "idx_conversations_state" on "conversations"."conversations" ("state");`);
    this.addSql(`create index "idx_conversations_assigned_agent" on "conversations"."conversations" ("assigned_agent_id");`);
    this.addSql(`create index "idx_conversations_assigned_team" on "conversations"."conversations" ("assigned_team_id");`);
    this.addSql(`create index "idx_conversations_severity" on "conversations"."conversations" ("severity");`);
    this.addSql(`create index "idx_conversations_account_customer" on "conversations"."conversations" ("account_id", "customer_id", "last_message_at");`);
    this.addSql(`create index "idx_conversations_created" on "conversations"."conversations" ("created_at");`);
    this.addSql(`create index "idx_conversations_last_message" on "conversations"."conversations" ("last_message_at");`);

    this.addSql(`create table "conversations"."internal_notes" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "conversation_id" uuid null, "resolution_id" uuid null, "content" text not null, "visibility" varchar(20) not null default 'team', "author_id" uuid not null, "mentions" text[] not null default '{}', "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_internal_notes_conversation" on "conversations"."internal_notes" ("conversation_id");`);
    this.addSql(`create index "idx_internal_notes_resolution" on "conversations"."internal_notes" ("resolution_id");`);
    this.addSql(`create index "idx_internal_notes_author" on "conversations"."internal_notes" ("author_id");`);

    this.addSql(`create table "conversations"."messages" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "conversation_id" uuid not null, "channel" varchar(30) not null, "direction" varchar(10) not null, "sender_type" varchar(20) not null, "sender_id" uuid null, "content_type" varchar(30) not null default 'text', "content" text not null, "content_html" text null, "voice_recording_url" text null, "voice_duration_seconds" int null, "channel_message_id" varchar(255) null, "channel_metadata" jsonb not null default '{}', "parent_message_id" uuid null, "thread_id" uuid null, "ai_processed" boolean not null default false, "ai_annotations" jsonb not null default '{}', "status" varchar(20) not null default 'sent', "error_message" text null, "created_at" timestamptz not null default now(), "delivered_at" timestamptz null, "read_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "idx_messages_conversation" on "conversations"."messages" ("conversation_id");`);
    this.addSql(`create index "idx_messages_channel" on "conversations"."messages" ("channel");`);
    this.addSql(`create index "idx_messages_direction" on "conversations"."messages" ("direction");`);
    this.addSql(`create index "idx_messages_thread" on "conversations"."messages" ("thread_id");`);
    this.addSql(`create index "idx_messages_created" on "conversations"."messages" ("created_at");`);

    this.addSql(`alter table "conversations"."ai_annotations" add constraint "ai_annotations_intent_check" check (intent in ('how_to_guidance', 'account_access_issue', 'transaction_system_failure', 'bug_technical_defect', 'urgent_high_risk', 'noise_low_intent', 'unknown'));`);
    this.addSql(`alter table "conversations"."ai_annotations" add constraint "ai_annotations_intent_confidence_check" check (intent_confidence >= 0 and intent_confidence <= 1);`);
    this.addSql(`alter table "conversations"."ai_annotations" add constraint "ai_annotations_severity_check" check (severity in ('P0', 'P1', 'P2', 'P3'));`);
    this.addSql(`alter table "conversations"."ai_annotations" add constraint "ai_annotations_sentiment_check" check (sentiment in ('positive', 'neutral', 'negative', 'angry'));`);

    this.addSql(`alter table "conversations"."attachments" add constraint "attachments_storage_provider_check" check (storage_provider in ('local', 's3', 'minio', 'gcs'));`);

    this.addSql(`alter table "conversations"."conversations" add constraint "conversations_state_check" check (state in ('open', 'awaiting_customer', 'awaiting_agent', 'escalated', 'resolved', 'reopened'));`);
    this.addSql(`alter table "conversations"."conversations" add constraint "conversations_severity_check" check (severity in ('P0', 'P1', 'P2', 'P3'));`);
    this.addSql(`alter table "conversations"."conversations" add constraint "conversations_sentiment_check" check (sentiment in ('positive', 'neutral', 'negative', 'angry'));`);

    this.addSql(`alter table "conversations"."internal_notes" add constraint "internal_notes_visibility_check" check (visibility in ('private', 'team', 'all'));`);
    this.addSql(`alter table "conversations"."internal_notes" add constraint "chk_note_link" check (conversation_id is not null or resolution_id is not null);`);

    this.addSql(`alter table "conversations"."messages" add constraint "messages_channel_check" check (channel in ('web_chat', 'email', 'whatsapp', 'facebook', 'instagram', 'twitter', 'voice', 'sms', 'internal'));`);
    this.addSql(`alter table "conversations"."messages" add constraint "messages_direction_check" check (direction in ('inbound', 'outbound', 'internal'));`);
    this.addSql(`alter table "conversations"."messages" add constraint "messages_sender_type_check" check (sender_type in ('customer', 'agent', 'system', 'ai'));`);
    this.addSql(`alter table "conversations"."messages" add constraint "messages_content_type_check" check (content_type in ('text', 'html', 'markdown', 'voice_transcript', 'system_event'));`);
    this.addSql(`alter table "conversations"."messages" add constraint "messages_status_check" check (status in ('pending', 'sent', 'delivered', 'read', 'failed'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "conversations"."ai_annotations" cascade;`);
    this.addSql(`drop table if exists "conversations"."attachments" cascade;`);
    this.addSql(`drop table if exists "conversations"."conversations" cascade;`);
    this.addSql(`drop table if exists "conversations"."internal_notes" cascade;`);
    this.addSql(`drop table if exists "conversations"."messages" cascade;`);

    this.addSql(`drop schema if exists "conversations";`);
  }

}
