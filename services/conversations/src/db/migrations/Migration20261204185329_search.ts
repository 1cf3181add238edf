import { Migration } from '@mikro-orm/migrations';

// Search (db/message-search.repository.ts). The seed's full-text index keeps its name and its expression,
// to_tsvector('english', content), but on a stored generated column of it: filtering the newest rows of a common
// word and ranking the candidates then read the vector instead of computing it again for every row (on 1,000,000
// messages a common word's p99 went from ~240 ms to the figures in test/bench/search.bench.ts), and an insert still
// computes it once. The column is not in the entity: nothing writes it but PostgreSQL.
export class Migration20261204185329_search extends Migration {

  override name = 'Migration20261204185329_search';

  override up(): void | Promise<void> {
    this.addSql(`create index "idx_messages_account_created" on "conversations"."messages" ("account_id", "created_at");`);
    this.addSql(`alter table "conversations"."messages" add column "search_vector" tsvector generated always as (to_tsvector('english', "content")) stored;`);
    this.addSql(`drop index "conversations"."idx_messages_content_fts";`);
    this.addSql(`create index "idx_messages_content_fts" on "conversations"."messages" using gin ("search_vector");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "conversations"."idx_messages_content_fts";`);
    this.addSql(`alter table "conversations"."messages" drop column "search_vector";`);
    this.addSql(`create index "idx_messages_content_fts" on "conversations"."messages" using gin (to_tsvector('english', "content"));`);
    this.addSql(`drop index "conversations"."idx_messages_account_created";`);
  }

}
