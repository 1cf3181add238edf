import { Migration } from '@mikro-orm/migrations';

export class Migration20261204191041_merges extends Migration {

  override name = 'Migration20261204191041_merges';

  override up(): void | Promise<void> {
    this.addSql(`create table "identity"."customer_consents" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "customer_id" uuid not null, "channel" varchar(30) not null, "status" varchar(20) not null, "source" varchar(30) not null, "recorded_at" timestamptz not null, "recorded_by" varchar(100) not null, primary key ("id"));`);
    this.addSql(`alter table "identity"."customer_consents" add constraint "uq_customer_consents_channel" unique ("account_id", "customer_id", "channel");`);

    this.addSql(`create table "identity"."customer_erasures" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "customer_id" uuid not null, "erased_customer_ids" uuid[] not null, "reason" text not null, "erased_by" varchar(100) not null, "erased_at" timestamptz not null, "identifiers_removed" int not null, "consents_removed" int not null, "merge_suggestions_removed" int not null, "merges_closed" int not null, "profile_fields_cleared" int not null, "events_redacted" int not null, primary key ("id"));`);
    this.addSql(`create index "idx_customer_erasures_customer" on "identity"."customer_erasures" ("customer_id");`);

    this.addSql(`create table "identity"."customer_merges" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "source_customer_id" uuid not null, "target_customer_id" uuid not null, "reason" text not null, "status" varchar(20) not null default 'merged', "merged_by" varchar(100) not null, "merged_at" timestamptz not null, "moved_identifier_ids" uuid[] not null default '{}', "demoted_identifier_ids" uuid[] not null default '{}', "source_status_before" varchar(20) not null, "target_before" jsonb null, "target_after" jsonb null, "target_consents_before" jsonb null, "unmerged_by" varchar(100) null, "unmerged_at" timestamptz null, "unmerge_reason" text null, "restored_identifier_ids" uuid[] null, primary key ("id"));`);
    this.addSql(`create index "idx_customer_merges_source" on "identity"."customer_merges" ("source_customer_id");`);
    this.addSql(`create index "idx_customer_merges_target" on "identity"."customer_merges" ("target_customer_id");`);

    this.addSql(`create table "identity"."merge_suggestions" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "customer_a_id" uuid not null, "customer_b_id" uuid not null, "reason" varchar(50) not null, "identifier_ids" uuid[] not null default '{}', "status" varchar(20) not null default 'open', "merge_id" uuid null, "decided_at" timestamptz null, "decided_by" varchar(100) null, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_merge_suggestions_customer_a" on "identity"."merge_suggestions" ("customer_a_id");`);
    this.addSql(`create index "idx_merge_suggestions_customer_b" on "identity"."merge_suggestions" ("customer_b_id");`);
    this.addSql(`create index "idx_merge_suggestions_account_status" on "identity"."merge_suggestions" ("account_id", "status", "created_at");`);

    this.addSql(`alter table "identity"."customers" add "erased_at" timestamptz null;`);
    this.addSql(`create index "idx_customers_merged_into" on "identity"."customers" ("merged_into_id");`);

    this.addSql(`alter table "identity"."customer_identifiers" add "is_verified" boolean not null default false, add "is_primary" boolean not null default false;`);

    this.addSql(`create index "idx_users_status" on "identity"."users" ("status");`);
    this.addSql(`create index "idx_users_slack" on "identity"."users" ("slack_user_id");`);

    this.addSql(`alter table "identity"."customer_consents" add constraint "customer_consents_channel_check" check (channel in ('web_chat', 'email', 'sms', 'whatsapp', 'facebook', 'instagram', 'twitter', 'voice', 'api'));`);
    this.addSql(`alter table "identity"."customer_consents" add constraint "customer_consents_status_check" check (status in ('opted_in', 'opted_out'));`);
    this.addSql(`alter table "identity"."customer_consents" add constraint "customer_consents_source_check" check (source in ('sms_stop_keyword', 'sms_start_keyword', 'email_unsubscribe', 'web_form', 'agent', 'import', 'merge', 'unmerge'));`);

    this.addSql(`alter table "identity"."customer_merges" add constraint "customer_merges_status_check" check (status in ('merged', 'unmerged', 'erased'));`);

    this.addSql(`alter table "identity"."merge_suggestions" add constraint "merge_suggestions_status_check" check (status in ('open', 'accepted', 'dismissed'));`);

    // Written by hand from here on: what the entities cannot express.
    // The seed's GIN indexes (identity resolution by graph, segmentation by tags and segments; users' skills).
    this.addSql(`create index "idx_customers_emails" on "identity"."customers" using gin ((identity_graph->'emails'));`);
    this.addSql(`create index "idx_customers_phones" on "identity"."customers" using gin ((identity_graph->'phone_numbers'));`);
    this.addSql(`create index "idx_customers_social" on "identity"."customers" using gin ((identity_graph->'social_ids'));`);
    this.addSql(`create index "idx_customers_tags" on "identity"."customers" using gin (tags);`);
    this.addSql(`create index "idx_customers_segments" on "identity"."customers" using gin (segments);`);
    this.addSql(`create index "idx_users_skills" on "identity"."users" using gin (skills);`);
    // One open suggestion per unordered pair (recordMergeSuggestions inserts with on conflict do nothing).
    this.addSql(`create unique index "uq_merge_suggestions_open_pair" on "identity"."merge_suggestions" (account_id, least(customer_a_id, customer_b_id), greatest(customer_a_id, customer_b_id)) where status = 'open';`);
    // At most one primary identifier per customer, kind and network.
    this.addSql(`create unique index "uq_customer_identifiers_primary" on "identity"."customer_identifiers" (customer_id, kind, network) where is_primary;`);
    // Existing identifiers: each customer's oldest of a kind and network is its primary.
    this.addSql(`update "identity"."customer_identifiers" ci set is_primary = true
      from (select distinct on (customer_id, kind, network) id from "identity"."customer_identifiers" order by customer_id, kind, network, created_at, id) f
     where ci.id = f.id;`);
    // Existing graphs rebuilt from the rows (social_ids becomes network -> list of ids), as identifier.repository.ts
    // builds them (spelled out here: a migration must not change when that code does).
    this.addSql(`update "identity"."customers" c set identity_graph = jsonb_build_object(
      'emails', coalesce((select jsonb_agg(g.value order by g.is_primary desc, g.created_at, g.value) from "identity"."customer_identifiers" g where g.customer_id = c.id and g.kind = 'email'), '[]'::jsonb),
      'phone_numbers', coalesce((select jsonb_agg(g.value order by g.is_primary desc, g.created_at, g.value) from "identity"."customer_identifiers" g where g.customer_id = c.id and g.kind = 'phone'), '[]'::jsonb),
      'social_ids', coalesce((select jsonb_object_agg(n.network, n.ids) from (
          select g.network, jsonb_agg(g.value order by g.is_primary desc, g.created_at, g.value) as ids from "identity"."customer_identifiers" g
           where g.customer_id = c.id and g.kind = 'social' group by g.network) n), '{}'::jsonb),
      'device_fingerprints', coalesce((select jsonb_agg(g.value order by g.is_primary desc, g.created_at, g.value) from "identity"."customer_identifiers" g where g.customer_id = c.id and g.kind = 'device'), '[]'::jsonb));`);
  }

  override down(): void | Promise<void> {
    for (const index of ['idx_customers_emails', 'idx_customers_phones', 'idx_customers_social', 'idx_customers_tags', 'idx_customers_segments', 'idx_users_skills']) {
      this.addSql(`drop index if exists "identity"."${index}";`);
    }
    this.addSql(`drop table if exists "identity"."customer_consents" cascade;`);
    this.addSql(`drop table if exists "identity"."customer_erasures" cascade;`);
    this.addSql(`drop table if exists "identity"."customer_merges" cascade;`);
    this.addSql(`drop table if exists "identity"."merge_suggestions" cascade;`);

    this.addSql(`alter table "identity"."customer_identifiers" drop column "is_verified", drop column "is_primary";`);

    this.addSql(`drop index "identity"."idx_customers_merged_into";`);
    this.addSql(`alter table "identity"."customers" drop column "erased_at";`);

    this.addSql(`drop index "identity"."idx_users_status";`);
    this.addSql(`drop index "identity"."idx_users_slack";`);
  }

}
