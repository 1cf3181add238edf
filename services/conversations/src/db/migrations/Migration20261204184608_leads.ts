import { Migration } from '@mikro-orm/migrations';
import { updatedAtTriggerSql } from '@domiq/db';

export class Migration20261204184608_leads extends Migration {

  override name = 'Migration20261204184608_leads';

  override up(): void | Promise<void> {
    this.addSql(`create table "conversations"."leads" ("conversation_id" uuid not null, "account_id" uuid not null, "property_id" uuid not null, "customer_id" uuid not null, "status" varchar(30) not null default 'new', "lost_reason" text null, "ai_intent_summary" text null, "is_qualified" boolean not null default false, "is_book_tour" boolean not null default false, "tour_at" timestamptz null, "lead_source" varchar(100) null, "move_in" varchar(10) null, "bedrooms" numeric(3,1) null, "bathrooms" numeric(3,1) null, "rent_min" int null, "rent_max" int null, "pets" jsonb not null default '[]', "occupants" int null, "desired_unit" varchar(50) null, "desired_floorplan" varchar(100) null, "version" int not null default 0, "updated_by" varchar(100) null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("conversation_id"));`);
    this.addSql(`create index "idx_leads_property" on "conversations"."leads" ("property_id");`);
    this.addSql(`create index "idx_leads_customer" on "conversations"."leads" ("customer_id");`);
    this.addSql(`create index "idx_leads_account_status" on "conversations"."leads" ("account_id", "status");`);

    this.addSql(`alter table "conversations"."leads" add constraint "leads_status_check" check (status in ('new', 'contacted', 'qualified', 'tour_scheduled', 'toured', 'application', 'leased', 'lost'));`);
    this.addSql(`alter table "conversations"."leads" add constraint "leads_lost_reason_check" check (status <> 'lost' or lost_reason is not null);`);
    // Same service: the lead goes with its conversation.
    this.addSql(`alter table "conversations"."leads" add constraint "leads_conversation_fk" foreign key ("conversation_id") references "conversations"."conversations" ("id") on delete cascade;`);
    for (const sql of updatedAtTriggerSql('conversations', 'leads')) this.addSql(sql);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "conversations"."leads" cascade;`);
  }

}
