/**
 * The read of `migrate preview`: rows to map, from the source table or from staging's stg_customer
 * (the same statement on either database). Names come from the validated mapping and are quoted.
 */
import type { Pool, PoolClient } from 'pg';
import { ident } from './copy';
import type { SourceRow } from '../mapping/types';

type Db = Pool | PoolClient;

/**
 * The mapping's source columns of `table` (already quoted, e.g. from qualified()), ordered by `key`:
 * the rows of exactly `codes` when given, else the lowest `limit` keys.
 */
export async function readRowsToPreview(
  db: Db,
  table: string,
  { key, columns }: { key: string; columns: readonly string[] },
  { codes, limit }: { codes: number[] | null; limit: number },
): Promise<SourceRow[]> {
  const cols = columns.map((c) => `s.${ident(c)}`).join(', ');
  const filter = codes ? `WHERE s.${ident(key)} = ANY($1::int[])` : '';
  const params = codes ? [codes] : [];
  const limitClause = codes ? '' : `LIMIT ${Number(limit)}`;
  return (await db.query(`SELECT ${cols} FROM ${table} s ${filter} ORDER BY s.${ident(key)} ${limitClause}`, params)).rows;
}
