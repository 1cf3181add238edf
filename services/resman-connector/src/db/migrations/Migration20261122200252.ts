import { Migration } from '@mikro-orm/migrations';

export class Migration20261122200252 extends Migration {

  override name = 'Migration20261122200252';

  override up(): void | Promise<void> {
    this.addSql(`create schema if not exists "resman_connector";`);
    this.addSql(`create table "resman_connector"."communication_log_sync" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "property_id" uuid not null, "customer_id" uuid not null, "conversation_id" uuid null, "resman_prospect_id" varchar(100) null, "communication_type" varchar(50) null, "message_id" varchar(100) not null, "sender_type" varchar(50) null, "content" text null, "content_summary" text null, "sentiment_score" numeric(3,2) null, "key_topics" jsonb null, "timestamp" timestamptz null, "sync_direction" varchar(20) null, "sync_status" varchar(50) null, "sync_type" varchar(50) null, "resman_event_type" varchar(50) null, "last_error" text null, "retry_count" int not null default 0, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_communication_log_sync_account" on "resman_connector"."communication_log_sync" ("account_id");`);
    this.addSql(`create index "idx_communication_log_sync_status" on "resman_connector"."communication_log_sync" ("sync_status", "sync_direction", "created_at");`);
    this.addSql(`create index "idx_communication_log_sync_type" on "resman_connector"."communication_log_sync" ("communication_type", "sender_type", "timestamp");`);
    this.addSql(`create index "idx_communication_log_sync_prospect" on "resman_connector"."communication_log_sync" ("resman_prospect_id", "timestamp");`);
    this.addSql(`create index "idx_communication_log_sync_customer" on "resman_connector"."communication_log_sync" ("account_id", "property_id", "customer_id");`);
    this.addSql(`alter table "resman_connector"."communication_log_sync" add constraint "uq_communication_log_sync_message" unique ("message_id");`);

    this.addSql(`create table "resman_connector"."communication_compliance_flags" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "communication_log_id" uuid null, "flag_type" varchar(50) null, "flag_description" text null, "flag_severity" varchar(20) null, "is_resolved" boolean not null default false, "resolved_by" varchar(100) null, "resolved_at" timestamptz null, "sync_status" varchar(50) null, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_communication_compliance_flags_account" on "resman_connector"."communication_compliance_flags" ("account_id");`);
    this.addSql(`create index "idx_communication_compliance_flags_severity" on "resman_connector"."communication_compliance_flags" ("flag_severity", "is_resolved");`);

    this.addSql(`create table "resman_connector"."communication_metadata" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "communication_log_id" uuid null, "metadata_type" varchar(50) null, "metadata_value" jsonb null, "sync_status" varchar(50) null, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_communication_metadata_account" on "resman_connector"."communication_metadata" ("account_id");`);
    this.addSql(`create index "idx_communication_metadata_type" on "resman_connector"."communication_metadata" ("metadata_type", "sync_status");`);

    this.addSql(`create table "resman_connector"."communication_sync_queue" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "communication_log_id" uuid null, "sync_operation" varchar(50) null, "sync_data" jsonb null, "priority" int not null default 1, "retry_count" int not null default 0, "max_retries" int not null default 3, "next_retry_at" timestamptz null, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_communication_sync_queue_account" on "resman_connector"."communication_sync_queue" ("account_id");`);
    this.addSql(`create index "idx_communication_sync_queue_priority" on "resman_connector"."communication_sync_queue" ("priority", "next_retry_at") where next_retry_at is not null;`);

    this.addSql(`create table "resman_connector"."contact_enrichment_log" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "customer_id" uuid null, "enrichment_type" varchar(50) null, "enriched_data" jsonb null, "source" varchar(50) null, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_contact_enrichment_log_account" on "resman_connector"."contact_enrichment_log" ("account_id");`);
    this.addSql(`create index "idx_contact_enrichment_log_contact" on "resman_connector"."contact_enrichment_log" ("customer_id", "enrichment_type");`);

    this.addSql(`create table "resman_connector"."contact_matching_rules" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "property_id" uuid null, "matching_criteria" jsonb not null, "merge_strategy" varchar(50) null, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_contact_matching_rules_account" on "resman_connector"."contact_matching_rules" ("account_id");`);
    this.addSql(`create index "idx_contact_matching_rules_property" on "resman_connector"."contact_matching_rules" ("property_id");`);

    this.addSql(`create table "resman_connector"."contact_sync" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "property_id" uuid not null, "customer_id" uuid not null, "resman_contact_id" varchar(100) null, "resman_prospect_id" varchar(100) null, "sync_status" varchar(50) null, "sync_version" int not null default 0, "custom_fields" jsonb null, "last_sync_at" timestamptz null default now(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_contact_sync_account" on "resman_connector"."contact_sync" ("account_id");`);
    this.addSql(`create index "idx_contact_sync_resman_contact" on "resman_connector"."contact_sync" ("resman_contact_id");`);
    this.addSql(`create index "idx_contact_sync_status" on "resman_connector"."contact_sync" ("sync_status", "last_sync_at");`);
    this.addSql(`alter table "resman_connector"."contact_sync" add constraint "uq_contact_sync_property_customer" unique ("property_id", "customer_id");`);

    this.addSql(`create table "resman_connector"."lead_sync_conflicts" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "property_id" uuid null, "customer_id" uuid null, "conversation_id" uuid null, "resman_lead_id" varchar(100) null, "conflict_type" varchar(50) not null, "conflict_field" varchar(100) null, "resman_value" jsonb null, "domiq_value" jsonb null, "conflict_severity" varchar(20) not null default 'medium', "resolution_status" varchar(50) not null default 'pending', "resolution_strategy" varchar(50) null, "resolved_value" jsonb null, "resolved_by" uuid null, "resolved_at" timestamptz null, "notes" text null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_lead_sync_conflicts_account" on "resman_connector"."lead_sync_conflicts" ("account_id");`);
    this.addSql(`create index "idx_lead_sync_conflicts_status" on "resman_connector"."lead_sync_conflicts" ("resolution_status", "conflict_severity");`);
    this.addSql(`create index "idx_lead_sync_conflicts_type_field" on "resman_connector"."lead_sync_conflicts" ("conflict_type", "conflict_field");`);
    this.addSql(`create index "idx_lead_sync_conflicts_resolved" on "resman_connector"."lead_sync_conflicts" ("resolved_at") where resolution_status = 'resolved';`);
    this.addSql(`create index "idx_lead_sync_conflicts_by_resolver" on "resman_connector"."lead_sync_conflicts" ("resolved_by", "resolved_at") where resolved_by is not null;`);

    this.addSql(`create table "resman_connector"."lead_sync_log" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "property_id" uuid null, "customer_id" uuid null, "conversation_id" uuid null, "message_id" uuid null, "resman_lead_id" varchar(100) null, "sync_direction" varchar(20) not null, "sync_status" varchar(50) not null, "sync_type" varchar(50) not null, "sync_data" jsonb null, "response_data" jsonb null, "error_message" text null, "error_code" varchar(100) null, "conflict_resolution" varchar(50) null, "conflict_details" jsonb null, "retry_count" int not null default 0, "processing_time_ms" int null, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_lead_sync_log_account" on "resman_connector"."lead_sync_log" ("account_id");`);
    this.addSql(`create index "idx_lead_sync_log_conversation_created" on "resman_connector"."lead_sync_log" ("conversation_id", "created_at");`);
    this.addSql(`create index "idx_lead_sync_log_status_created" on "resman_connector"."lead_sync_log" ("sync_status", "created_at" DESC);`);
    this.addSql(`create index "idx_lead_sync_log_resman_lead" on "resman_connector"."lead_sync_log" ("resman_lead_id", "created_at" DESC);`);
    this.addSql(`create index "idx_lead_sync_log_direction_type" on "resman_connector"."lead_sync_log" ("sync_direction", "sync_type", "created_at");`);
    this.addSql(`create index "idx_lead_sync_log_processing_time" on "resman_connector"."lead_sync_log" ("processing_time_ms") where processing_time_ms is not null;`);
    this.addSql(`create index "idx_lead_sync_log_error_tracking" on "resman_connector"."lead_sync_log" ("error_code", "created_at") where error_code is not null;`);

    this.addSql(`create table "resman_connector"."lead_sync_mapping" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "property_id" uuid not null, "customer_id" uuid not null, "conversation_id" uuid null, "resman_lead_id" varchar(100) not null, "resman_person_id" varchar(100) null, "mapping_status" varchar(50) not null default 'active', "sync_status" varchar(50) not null default 'not_synced', "custom_fields" jsonb null, "last_sync_at" timestamptz null default now(), "sync_version" int not null default 1, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_lead_sync_mapping_account" on "resman_connector"."lead_sync_mapping" ("account_id");`);
    this.addSql(`create index "idx_lead_sync_mapping_resman_lead" on "resman_connector"."lead_sync_mapping" ("resman_lead_id");`);
    this.addSql(`create index "idx_lead_sync_mapping_status" on "resman_connector"."lead_sync_mapping" ("mapping_status", "last_sync_at");`);
    this.addSql(`create index "idx_lead_sync_mapping_property" on "resman_connector"."lead_sync_mapping" ("property_id", "mapping_status");`);
    this.addSql(`alter table "resman_connector"."lead_sync_mapping" add constraint "uq_lead_sync_mapping_property_customer" unique ("property_id", "customer_id");`);

    this.addSql(`create table "resman_connector"."lead_sync_queue" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "property_id" uuid null, "customer_id" uuid null, "conversation_id" uuid null, "resman_lead_id" varchar(100) null, "sync_operation" varchar(50) not null, "sync_data" jsonb not null, "priority" int not null default 1, "retry_count" int not null default 0, "max_retries" int not null default 3, "next_retry_at" timestamptz null, "status" varchar(50) not null default 'pending', "error_message" text null, "processed_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_lead_sync_queue_account" on "resman_connector"."lead_sync_queue" ("account_id");`);
    this.addSql(`create index "idx_lead_sync_queue_status_priority" on "resman_connector"."lead_sync_queue" ("status", "priority" DESC, "created_at");`);
    this.addSql(`create index "idx_lead_sync_queue_next_retry" on "resman_connector"."lead_sync_queue" ("next_retry_at") where status = 'pending';`);
    this.addSql(`create index "idx_lead_sync_queue_conversation" on "resman_connector"."lead_sync_queue" ("conversation_id", "created_at");`);

    this.addSql(`create table "resman_connector"."resman_integration" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "property_id" uuid not null, "resman_property_id" varchar(100) not null, "api_credentials" text not null, "base_url" varchar(500) not null, "resman_account_id" bigint not null, "default_agent_id" varchar(100) not null, "prospect_source_id" varchar(100) not null, "webhook_url" varchar(255) null, "sync_enabled" boolean not null default true, "sync_direction" varchar(20) not null default 'bidirectional', "sync_frequency" varchar(20) not null default 'realtime', "last_sync_at" timestamptz null default now(), "last_successful_sync_at" timestamptz null, "sync_status" varchar(50) not null default 'active', "error_count" int not null default 0, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`comment on column "resman_connector"."resman_integration"."api_credentials" is 'SecretBox ciphertext of {integrationPartnerId, apiKey}; never logged or returned';`);
    this.addSql(`create index "idx_resman_integration_account" on "resman_connector"."resman_integration" ("account_id");`);
    this.addSql(`alter table "resman_connector"."resman_integration" add constraint "uq_resman_integration_property" unique ("property_id");`);

    this.addSql(`create table "resman_connector"."status_notification_preferences" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "property_id" uuid null, "status_type" varchar(50) null, "notification_method" varchar(50) null, "recipients" jsonb null, "template_id" varchar(100) null, "is_active" boolean not null default true, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_status_notification_preferences_account" on "resman_connector"."status_notification_preferences" ("account_id");`);
    this.addSql(`create index "idx_status_notification_preferences_property" on "resman_connector"."status_notification_preferences" ("property_id", "status_type");`);

    this.addSql(`create table "resman_connector"."status_sync_log" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "property_id" uuid null, "customer_id" uuid null, "conversation_id" uuid null, "resman_lead_id" varchar(100) null, "old_status" varchar(50) null, "new_status" varchar(50) null, "status_reason" text null, "updated_by" varchar(100) null, "sync_direction" varchar(20) null, "sync_status" varchar(50) null, "context_data" jsonb null, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_status_sync_log_account" on "resman_connector"."status_sync_log" ("account_id");`);
    this.addSql(`create index "idx_status_sync_log_status" on "resman_connector"."status_sync_log" ("new_status", "sync_status", "created_at");`);

    this.addSql(`create table "resman_connector"."status_workflow_rules" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "property_id" uuid null, "trigger_status" varchar(50) null, "target_status" varchar(50) null, "conditions" jsonb null, "actions" jsonb null, "is_active" boolean not null default true, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_status_workflow_rules_account" on "resman_connector"."status_workflow_rules" ("account_id");`);
    this.addSql(`create index "idx_status_workflow_rules_property" on "resman_connector"."status_workflow_rules" ("property_id", "is_active");`);

    this.addSql(`alter table "resman_connector"."communication_log_sync" add constraint "communication_log_sync_communication_type_check" check (communication_type in ('chat', 'email', 'sms', 'voice'));`);
    this.addSql(`alter table "resman_connector"."communication_log_sync" add constraint "communication_log_sync_sender_type_check" check (sender_type in ('ai', 'prospect', 'staff'));`);
    this.addSql(`alter table "resman_connector"."communication_log_sync" add constraint "communication_log_sync_sync_direction_check" check (sync_direction in ('to_resman', 'from_resman', 'bidirectional'));`);
    this.addSql(`alter table "resman_connector"."communication_log_sync" add constraint "communication_log_sync_sync_status_check" check (sync_status in ('pending', 'success', 'failed', 'conflict'));`);
    this.addSql(`alter table "resman_connector"."communication_log_sync" add constraint "communication_log_sync_sync_type_check" check (sync_type in ('create', 'update', 'enrichment', 'compliance'));`);
    this.addSql(`alter table "resman_connector"."communication_log_sync" add constraint "chk_sentiment_score" check (sentiment_score >= -1 and sentiment_score <= 1);`);
    this.addSql(`alter table "resman_connector"."communication_log_sync" add constraint "chk_communication_log_sync_retry_count" check (retry_count >= 0);`);

    this.addSql(`alter table "resman_connector"."communication_compliance_flags" add constraint "communication_compliance_flags_communication_log_id_foreign" foreign key ("communication_log_id") references "resman_connector"."communication_log_sync" ("id") on delete cascade;`);
    this.addSql(`alter table "resman_connector"."communication_compliance_flags" add constraint "communication_compliance_flags_flag_type_check" check (flag_type in ('gdpr_consent', 'opt_out', 'sensitive_data', 'regulatory'));`);
    this.addSql(`alter table "resman_connector"."communication_compliance_flags" add constraint "communication_compliance_flags_flag_severity_check" check (flag_severity in ('low', 'medium', 'high', 'critical'));`);
    this.addSql(`alter table "resman_connector"."communication_compliance_flags" add constraint "communication_compliance_flags_sync_status_check" check (sync_status in ('pending', 'success', 'failed'));`);

    this.addSql(`alter table "resman_connector"."communication_metadata" add constraint "communication_metadata_communication_log_id_foreign" foreign key ("communication_log_id") references "resman_connector"."communication_log_sync" ("id") on delete cascade;`);
    this.addSql(`alter table "resman_connector"."communication_metadata" add constraint "communication_metadata_metadata_type_check" check (metadata_type in ('attachments', 'links', 'emotions', 'intents'));`);
    this.addSql(`alter table "resman_connector"."communication_metadata" add constraint "communication_metadata_sync_status_check" check (sync_status in ('pending', 'success', 'failed'));`);

    this.addSql(`alter table "resman_connector"."communication_sync_queue" add constraint "communication_sync_queue_communication_log_id_foreign" foreign key ("communication_log_id") references "resman_connector"."communication_log_sync" ("id") on delete cascade;`);
    this.addSql(`alter table "resman_connector"."communication_sync_queue" add constraint "communication_sync_queue_sync_operation_check" check (sync_operation in ('push', 'pull', 'merge', 'compliance_check'));`);
    this.addSql(`alter table "resman_connector"."communication_sync_queue" add constraint "communication_sync_queue_priority_check" check (priority in (1, 2, 3));`);
    this.addSql(`alter table "resman_connector"."communication_sync_queue" add constraint "chk_communication_sync_queue_priority_range" check (priority >= 1 and priority <= 3);`);
    this.addSql(`alter table "resman_connector"."communication_sync_queue" add constraint "chk_retry_count_limit" check (retry_count <= max_retries);`);

    this.addSql(`alter table "resman_connector"."contact_enrichment_log" add constraint "chk_enrichment_type" check (enrichment_type in ('conversation_data', 'preferences', 'interaction_history'));`);
    this.addSql(`alter table "resman_connector"."contact_enrichment_log" add constraint "contact_enrichment_log_source_check" check (source in ('chatbot', 'resman', 'manual'));`);

    this.addSql(`alter table "resman_connector"."contact_matching_rules" add constraint "chk_merge_strategy" check (merge_strategy in ('resman_wins', 'domiq_wins', 'manual_review'));`);

    this.addSql(`alter table "resman_connector"."contact_sync" add constraint "chk_contact_sync_status" check (sync_status in ('pending', 'success', 'failed', 'merged'));`);
    this.addSql(`alter table "resman_connector"."contact_sync" add constraint "chk_user_resman_sync_version" check (sync_version >= 0);`);
    this.addSql(`alter table "resman_connector"."contact_sync" add constraint "chk_user_resman_sync_mapping" check (sync_status <> 'success' or resman_contact_id is not null);`);

    this.addSql(`alter table "resman_connector"."lead_sync_conflicts" add constraint "lead_sync_conflicts_conflict_type_check" check (conflict_type in ('status_conflict', 'data_conflict', 'duplicate_lead', 'field_mismatch'));`);
    this.addSql(`alter table "resman_connector"."lead_sync_conflicts" add constraint "lead_sync_conflicts_conflict_severity_check" check (conflict_severity in ('low', 'medium', 'high', 'critical'));`);
    this.addSql(`alter table "resman_connector"."lead_sync_conflicts" add constraint "lead_sync_conflicts_resolution_status_check" check (resolution_status in ('pending', 'auto_resolved', 'manual_review', 'resolved'));`);
    this.addSql(`alter table "resman_connector"."lead_sync_conflicts" add constraint "lead_sync_conflicts_resolution_strategy_check" check (resolution_strategy in ('resman_wins', 'domiq_wins', 'manual_review', 'merged'));`);

    this.addSql(`alter table "resman_connector"."lead_sync_log" add constraint "lead_sync_log_sync_direction_check" check (sync_direction in ('to_resman', 'from_resman', 'bidirectional'));`);
    this.addSql(`alter table "resman_connector"."lead_sync_log" add constraint "lead_sync_log_sync_status_check" check (sync_status in ('pending', 'success', 'failed', 'conflict', 'retry'));`);
    this.addSql(`alter table "resman_connector"."lead_sync_log" add constraint "lead_sync_log_sync_type_check" check (sync_type in ('create', 'update', 'status_change', 'enrichment', 'merge'));`);
    this.addSql(`alter table "resman_connector"."lead_sync_log" add constraint "lead_sync_log_conflict_resolution_check" check (conflict_resolution in ('resman_wins', 'domiq_wins', 'manual_review', 'merged'));`);

    this.addSql(`alter table "resman_connector"."lead_sync_mapping" add constraint "lead_sync_mapping_mapping_status_check" check (mapping_status in ('active', 'inactive', 'merged', 'deleted'));`);
    this.addSql(`alter table "resman_connector"."lead_sync_mapping" add constraint "lead_sync_mapping_sync_status_check" check (sync_status in ('not_synced', 'syncing', 'synced', 'failed', 'conflict'));`);
    this.addSql(`alter table "resman_connector"."lead_sync_mapping" add constraint "chk_resman_sync_version" check (sync_version >= 0);`);

    this.addSql(`alter table "resman_connector"."lead_sync_queue" add constraint "lead_sync_queue_sync_operation_check" check (sync_operation in ('push', 'pull', 'merge', 'status_update', 'enrichment'));`);
    this.addSql(`alter table "resman_connector"."lead_sync_queue" add constraint "lead_sync_queue_status_check" check (status in ('pending', 'processing', 'completed', 'failed', 'cancelled'));`);
    this.addSql(`alter table "resman_connector"."lead_sync_queue" add constraint "chk_priority_range" check (priority >= 1 and priority <= 3);`);
    this.addSql(`alter table "resman_connector"."lead_sync_queue" add constraint "chk_retry_count" check (retry_count <= max_retries);`);

    this.addSql(`alter table "resman_connector"."resman_integration" add constraint "resman_integration_sync_direction_check" check (sync_direction in ('to_resman', 'from_resman', 'bidirectional'));`);
    this.addSql(`alter table "resman_connector"."resman_integration" add constraint "resman_integration_sync_frequency_check" check (sync_frequency in ('realtime', 'hourly', 'daily'));`);
    this.addSql(`alter table "resman_connector"."resman_integration" add constraint "resman_integration_sync_status_check" check (sync_status in ('active', 'paused', 'error', 'disconnected'));`);
    this.addSql(`alter table "resman_connector"."resman_integration" add constraint "resman_integration_base_url_check" check (base_url ~ '^https?://');`);

    this.addSql(`alter table "resman_connector"."status_notification_preferences" add constraint "chk_notification_method" check (notification_method in ('email', 'sms', 'slack', 'in_app'));`);

    this.addSql(`alter table "resman_connector"."status_sync_log" add constraint "chk_status_sync_status" check (sync_status in ('pending', 'success', 'failed'));`);
    this.addSql(`alter table "resman_connector"."status_sync_log" add constraint "chk_status_sync_direction" check (sync_direction in ('to_resman', 'from_resman'));`);
    this.addSql(`alter table "resman_connector"."status_sync_log" add constraint "chk_status_updated_by" check (updated_by in ('chatbot', 'resman_user', 'system'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "resman_connector"."communication_compliance_flags" drop constraint "communication_compliance_flags_communication_log_id_foreign";`);
    this.addSql(`alter table "resman_connector"."communication_metadata" drop constraint "communication_metadata_communication_log_id_foreign";`);
    this.addSql(`alter table "resman_connector"."communication_sync_queue" drop constraint "communication_sync_queue_communication_log_id_foreign";`);

    this.addSql(`drop table if exists "resman_connector"."communication_log_sync" cascade;`);
    this.addSql(`drop table if exists "resman_connector"."communication_compliance_flags" cascade;`);
    this.addSql(`drop table if exists "resman_connector"."communication_metadata" cascade;`);
    this.addSql(`drop table if exists "resman_connector"."communication_sync_queue" cascade;`);
    this.addSql(`drop table if exists "resman_connector"."contact_enrichment_log" cascade;`);
    this.addSql(`drop table if exists "resman_connector"."contact_matching_rules" cascade;`);
    this.addSql(`drop table if exists "resman_connector"."contact_sync" cascade;`);
    this.addSql(`drop table if exists "resman_connector"."lead_sync_conflicts" cascade;`);
    this.addSql(`drop table if exists "resman_connector"."lead_sync_log" cascade;`);
    this.addSql(`drop table if exists "resman_connector"."lead_sync_mapping" cascade;`);
    this.addSql(`drop table if exists "resman_connector"."lead_sync_queue" cascade;`);
    this.addSql(`drop table if exists "resman_connector"."resman_integration" cascade;`);
    this.addSql(`drop table if exists "resman_connector"."status_notification_preferences" cascade;`);
    this.addSql(`drop table if exists "resman_connector"."status_sync_log" cascade;`);
    this.addSql(`drop table if exists "resman_connector"."status_workflow_rules" cascade;`);

    this.addSql(`drop schema if exists "resman_connector";`);
  }

}
