// Hot-path SQL as named prepared statements.
//
// `em.execute(sql, params)` formats every parameter into the SQL text (MikroORM's formatQuery), so PostgreSQL lexes a
// batch's JSON document as a literal and parses and plans the statement afresh on every call: pg_stat_statements put
// planning at about a fifth of the services' statement time. `query(em, sql, params)` sends the parameters bound
// instead, as a named prepared statement: each pooled connection parses a statement once (pg keeps the names per
// connection) and nothing is formatted in JavaScript. Each execution is still planned for its own values
// (`plan_cache_mode = force_custom_plan`, set per connection in index.ts): what is saved is the parse, not the plan.
// It runs in the entity manager's transaction when there is one, like em.execute (without the ORM's query log and
// exception mapping: errors are pg's own).
//
// The SQL is written with `?` placeholders, as for em.execute (no `?` may appear inside a string literal or as a jsonb
// operator in these statements); they become $1, $2, ... once per distinct text.
import pg from 'pg';
import { CompiledQuery } from 'kysely';
import type { EntityManager } from '@mikro-orm/postgresql';

/** Distinct statement texts given a name, at most; past it a statement runs unnamed (parsed every time, as before). */
const MAX_NAMED = 500;
/** `?` text -> its `$n` text. */
const converted = new Map<string, string>();
/** `$n` text -> statement name. */
const names = new Map<string, string>();

function toNumbered(sql: string): string {
  let text = converted.get(sql);
  if (text === undefined) {
    let n = 0;
    text = sql.replace(/\?/g, () => `$${++n}`);
    // Bounded like the names: SQL built from data would otherwise grow both maps for ever.
    if (converted.size < MAX_NAMED * 2) converted.set(sql, text);
    // Two `?` texts can give one `$n` text (one written with `$1` already): it keeps its first name, and no name is
    // ever given twice (pg refuses a second statement of the same name on a connection).
    if (!names.has(text) && names.size < MAX_NAMED) names.set(text, `domiq_${names.size + 1}`);
  }
  return text;
}

/**
 * The pool's client class (`driverOptions.Client`): a query whose text `query()` named is sent as that named
 * statement, everything else as pg would send it.
 */
export class PreparingClient extends pg.Client {
  override query(config: unknown, values?: unknown, callback?: unknown): any {
    if (typeof config === 'string' && Array.isArray(values)) {
      const name = names.get(config);
      if (name) return (super.query as (...a: unknown[]) => unknown)({ name, text: config, values }, callback);
    }
    return (super.query as (...a: unknown[]) => unknown)(config, values, callback);
  }
}

/**
 * Runs one statement with bound parameters (a named prepared statement) in the entity manager's transaction, or on a
 * pooled connection outside one, and returns its rows. Values go to pg as they are: strings, numbers, booleans, null,
 * Date; a JSON document as a string for a `?::json` parameter, a text array as `pgTextArray(...)` for `?::text[]`.
 */
export async function query<R = Record<string, unknown>>(em: EntityManager, sql: string, params: readonly unknown[] = []): Promise<R[]> {
  const text = toNumbered(sql);
  const ctx = em.getTransactionContext<{ executeQuery(q: CompiledQuery): Promise<{ rows: R[] }> }>() ?? em.getConnection('write').getClient();
  const res = await ctx.executeQuery(CompiledQuery.raw(text, [...params]) as CompiledQuery);
  return res.rows as R[];
}
