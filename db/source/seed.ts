import type { Writable } from 'node:stream';
import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * The local stack's synthetic source table `efz_customer` as the seeding tooling writes it
 * (stack/seed.ts): emptied, checked, COPYed into, analysed, its rows changed for incremental runs.
 * Fixed names: this is the stack's own table, not the mapping's.
 */

type Db = Pick<ClientBase, 'query'>;

export async function emptySeedTable(db: Db): Promise<void> {
  await db.query('TRUNCATE efz_customer');
}

/** How many of the codes lo…hi the table holds already, and the lowest and highest of them. */
export async function seedCodesTaken(db: Db, lo: number, hi: number): Promise<{ n: string; lo: number | null; hi: number | null }> {
  const taken = await db.query<{ n: string; lo: number | null; hi: number | null }>(
    'SELECT count(*) AS n, min(customer_code) AS lo, max(customer_code) AS hi FROM efz_customer WHERE customer_code BETWEEN $1 AND $2',
    [lo, hi],
  );
  return taken.rows[0];
}

/** A COPY of `columns` into the table; `freeze` (COPY … FREEZE) only in the transaction that emptied it. */
export function copyIntoSeedTable(db: ClientBase, columns: readonly string[], freeze: boolean): Writable {
  return db.query(copyFrom(`COPY efz_customer (${columns.join(', ')}) FROM STDIN${freeze ? ' WITH (FREEZE)' : ''}`));
}

export async function analyzeSeedTable(db: Db): Promise<void> {
  await db.query('ANALYZE efz_customer');
}

/**
 * Changes the rows whose code hashes (with `seed`) below `threshold` (of 2^32) in one set-based
 * statement: a new address line (from `streets`) and phone, the next kyc level and risk rating, a
 * status flip for a tenth, and distinct updated_at values after every one in the table, no earlier
 * than now. Answers the rows changed.
 */
export async function mutateSeedRows(db: Db, seed: number, threshold: number, streets: readonly string[]): Promise<number> {
  const result = await db.query(
    `WITH base AS MATERIALIZED (
         SELECT greatest(clock_timestamp(), (SELECT max(updated_at) FROM efz_customer) + interval '1 microsecond') AS t0
       ),
       picked AS MATERIALIZED (
         SELECT customer_code, h,
                ('x' || substr(md5($1::text || ':' || customer_code::text || ':' || updated_at::text), 1, 8))::bit(32)::bigint AS h2,
                row_number() OVER (ORDER BY customer_code) AS rn
         FROM (SELECT customer_code, updated_at,
                      ('x' || substr(md5($1::text || ':' || customer_code::text), 1, 8))::bit(32)::bigint AS h
               FROM efz_customer) s
         WHERE h < $2::bigint
       )
       UPDATE efz_customer c SET
         address_line1 = (1 + (p.h2 % 250))::text || ' ' || ($3::text[])[1 + ((p.h2 / 250) % array_length($3::text[], 1))::int],
         phone = '0803' || lpad(((p.h2 / 7) % 10000000)::text, 7, '0'),
         kyc_level = (coalesce(c.kyc_level, 0) % 3) + 1,
         risk_rating = CASE upper(btrim(coalesce(c.risk_rating, ''))) WHEN 'LOW' THEN 'Medium' WHEN 'MEDIUM' THEN 'high' ELSE 'Low' END,
         status = CASE WHEN p.h % 10 = 0 THEN CASE WHEN upper(btrim(coalesce(c.status, ''))) = 'ACTIVE' THEN 'Dormant' ELSE 'active' END
                       ELSE c.status END,
         updated_at = b.t0 + p.rn * interval '1 microsecond'
       FROM picked p
       CROSS JOIN base b
       WHERE c.customer_code = p.customer_code`,
    [seed, threshold, streets],
  );
  return result.rowCount ?? 0;
}
