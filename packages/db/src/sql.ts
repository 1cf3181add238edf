/** SQL the ORM cannot express; migrations call these so every service gets the same definitions. */

/** Refuses UPDATE, DELETE and TRUNCATE on an append-only table (the event_log / outbox). */
export function appendOnlySql(schema: string, table: string): string[] {
  const fn = `"${schema}".refuse_${table}_change`;
  return [
    `create or replace function ${fn}() returns trigger language plpgsql as $$
begin
  raise exception '${table} is append-only: % refused', tg_op using errcode = 'raise_exception';
end $$`,
    `create or replace trigger trg_${table}_no_update before update or delete on "${schema}"."${table}" for each row execute function ${fn}()`,
    `create or replace trigger trg_${table}_no_truncate before truncate on "${schema}"."${table}" for each statement execute function ${fn}()`,
  ];
}

/** The seed's update_updated_at() trigger for a table with an updated_at column. */
export function updatedAtTriggerSql(schema: string, table: string): string[] {
  return [
    `create or replace function "${schema}".update_updated_at() returns trigger language plpgsql as $$
begin
  new.updated_at = now();
  return new;
end $$`,
    `create trigger trg_${table}_updated_at before update on "${schema}"."${table}" for each row execute function "${schema}".update_updated_at()`,
  ];
}

/*
 * KEY_LOOKUPS, the rule for a batch's lookups by key on the hot path: the keys as bound arrays (`unnest(?::uuid[],
 * ?::text[])`, pgTextArray below) and each key's rows found by a `cross join lateral (select ... where <every key
 * column> = k.<column> [and the index's predicate, spelled out] limit n)`. A plain join lets the planner pick the plan
 * from the tables' statistics, and on young or stale ones (every fresh database, any table growing faster than
 * autovacuum analyses it) it picked a scan of every row of the account (an index on account_id alone, or a
 * low-selectivity index such as messages.direction) joined by filter: a cost growing with the table. A LATERAL
 * subquery with LIMIT cannot be flattened into a join, so it is an index lookup per key by construction. (Measured with
 * auto_explain during `node test/bench/profile.ts`: docs/hot-path.md.)
 */

/**
 * A PostgreSQL array literal of texts (`{"a","b\"c",NULL}`), for a `?::text[]` parameter: the driver would expand a JS
 * array into a list of scalars. Unlike one JSON parameter read with json_to_recordset (which the planner always
 * estimates at 100 rows), `= any(?::text[])` and `unnest(?::text[], ...)` with a bound literal are estimated at the
 * array's real length, so a lookup of a few keys uses their unique index even on a table without statistics yet.
 */
export function pgTextArray(values: ReadonlyArray<string | null>): string {
  return `{${values.map((v) => (v === null ? 'NULL' : `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`)).join(',')}}`;
}

/**
 * A timestamp column of a row read with `query()` (outside the ORM): the pool hands timestamps over as text
 * (MikroORM's type parsers), the ORM's entities as Date.
 */
export function rowDate(value: Date | string): Date;
export function rowDate(value: Date | string | null): Date | null;
export function rowDate(value: Date | string | null): Date | null {
  return value === null ? null : value instanceof Date ? value : new Date(value);
}
