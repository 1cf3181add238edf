import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgTextArray } from '../src/sql.ts';

// Round trips through the real PostgreSQL: what the literal says is what the server reads.
let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
});
afterAll(async () => client?.end());

describe('pgTextArray', () => {
  it('is read back by PostgreSQL as exactly the values given, quotes, backslashes, braces, commas, newlines and NULL included', async () => {
    const values = ['a', 'b c', 'say "hi"', 'back\\slash', null, 'NULL', '{,}', 'line\nbreak', '', 'ünï'];
    const { rows } = await client.query<{ v: Array<string | null> }>('select $1::text[] as v', [pgTextArray(values)]);
    expect(rows[0]!.v).toEqual(values);
    const empty = await client.query<{ n: number | null }>('select cardinality($1::text[]) as n', [pgTextArray([])]);
    expect(empty.rows[0]!.n).toBe(0);
  });
});
