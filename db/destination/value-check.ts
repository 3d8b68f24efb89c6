import { escapeLiteral, type Pool } from 'pg';
import { copyIntoTemp, ident, qualified } from '../copy';
import type { BatchDigest, LinePrinter } from '../pg-text';
import { withTransaction } from '../transaction';
import type { CompiledMapping } from '../../mapping/types';

/**
 * The reconciliation's value check inside the destination: the digest of the rows it holds for a
 * batch's ids, computed there, and where that differs the row-by-row comparison with the expected
 * rows. Both are built from the mapping's validated, quoted names.
 */

type Destination = CompiledMapping['destination'];
type Db = Pick<Pool, 'query'>;

/**
 * The statement computing, for the customer ids in $1, both tables' row counts and the SHA-256 of
 * their rows printed as `customer` / `profile` print COPY lines, in id order.
 */
export function heldDigestSql(d: Destination, customer: LinePrinter, profile: LinePrinter): string {
  const digestSql = (table: string, printer: LinePrinter, idColumn: string) =>
    `SELECT count(*)::int AS n, encode(sha256(convert_to(coalesce(string_agg(${printer.sql}, '' ORDER BY ${idColumn}), ''), 'UTF8')), 'hex') AS digest
     FROM ${table} WHERE ${idColumn} = ANY($1::uuid[])`;
  return `SELECT c.n AS customers, c.digest AS "customerDigest", p.n AS profiles, p.digest AS "profileDigest"
    FROM (${digestSql(qualified(d.schema, d.customerTable), customer, ident(d.customerKey))}) c,
         (${digestSql(qualified(d.schema, d.profileTable), profile, '"customerId"')}) p`;
}

/** Runs a heldDigestSql statement for these customer ids. */
export async function readHeldDigest(db: Db, sql: string, customerIds: readonly unknown[]): Promise<BatchDigest> {
  return (await db.query<BatchDigest>(sql, [customerIds])).rows[0];
}

/** A destination row the comparison found missing or differing: by customer id, with the columns that differ. */
export interface RowDifference {
  id: string;
  missing: boolean;
  wrong_id: boolean;
  columns: string[];
}

// Expected rows go into temp tables shaped like the real ones and PostgreSQL compares them with its
// own equality (jsonb, timestamptz, uuid), so no destination row has to be parsed here and only
// differing rows come back.
const differs = (a: string, b: string, columns: readonly string[]) =>
  `(${columns.map((c) => `${a}.${ident(c)}`).join(', ')}) IS DISTINCT FROM (${columns.map((c) => `${b}.${ident(c)}`).join(', ')})`;

/** Rows of one temp table of expected rows that the destination lacks or holds otherwise. */
const compareSql = (temp: string, table: string, tableName: string, columns: readonly string[], joinOn: string, extra: string) => `
    SELECT e."customerId"::text AS id, t."customerId" IS NULL AS missing, ${extra},
           array_remove(ARRAY[${columns.map((c) => `CASE WHEN t.${ident(c)} IS DISTINCT FROM e.${ident(c)} THEN ${escapeLiteral(`${tableName}.${c}`)} END`).join(', ')}], NULL) AS columns
    FROM ${temp} e LEFT JOIN ${table} t ON t.${joinOn} = e.${joinOn}
    WHERE t."customerId" IS NULL OR ${differs('t', 'e', columns)}`;

/**
 * Compares expected rows (COPY text of both tables) with what the destination holds, in one
 * transaction: customer rows' differences first, then profile rows'.
 */
export async function differingRows(destination: Pool, d: Destination, expected: { customerLines: Buffer; profileLines: Buffer }): Promise<RowDifference[]> {
  const customerTable = qualified(d.schema, d.customerTable);
  const profileTable = qualified(d.schema, d.profileTable);
  const compareCustomers = compareSql('rec_customer', customerTable, d.customerTable, d.customerColumns, ident(d.customerKey), 'false AS wrong_id');
  const compareProfiles = compareSql(
    'rec_profile',
    profileTable,
    d.profileTable,
    d.profileColumns,
    '"customerId"',
    `t.${ident(d.profileKey)} IS DISTINCT FROM e.${ident(d.profileKey)} AS wrong_id`,
  );
  const [customerDiffs, profileDiffs] = await withTransaction(destination, async (client) => {
    await copyIntoTemp(client, 'rec_customer', customerTable, d.customerColumns, expected.customerLines);
    await copyIntoTemp(client, 'rec_profile', profileTable, d.profileColumns, expected.profileLines);
    // Index probes, never a scan of the whole destination per batch (fresh temp tables mislead the planner).
    await client.query('SET LOCAL enable_hashjoin = off');
    await client.query('SET LOCAL enable_mergejoin = off');
    return [await client.query<RowDifference>(compareCustomers), await client.query<RowDifference>(compareProfiles)];
  });
  return [...customerDiffs.rows, ...profileDiffs.rows];
}
