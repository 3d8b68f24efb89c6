/**
 * Read-only checks of the legacy source table before a window (`migrate preflight`): its size, its
 * watermark column, duplicate keys, the branch codes it uses, codes created since the last run, and a
 * sample to map. Table and column names come from the validated mapping and are quoted.
 */
import type { Pool, PoolClient } from 'pg';
import { escapeLiteral } from 'pg';
import { ident, qualified } from '../copy';
import type { SourceRow } from '../../mapping/types';

type Db = Pool | PoolClient;

export interface SourceTableRef {
  schema: string;
  table: string;
  key: string;
  watermark: string;
}

export interface SourceSanity {
  rows: number;
  /** Rows whose watermark column is after the source's own clock (now()), `infinity` included. */
  futureDated: number;
  /** A few of their codes, lowest first. */
  futureExamples: number[];
  nullWatermark: number;
  nullExamples: number[];
  /** Rows with the watermark at or after `since` (null when no `since` was given). */
  changedSince: number | null;
  /** The source's clock when it answered. */
  sourceNow: string;
}

/** Row count, future-dated and null watermarks, and rows changed since `since` (one scan). */
export async function readSourceSanity(db: Db, t: SourceTableRef, since: string | null): Promise<SourceSanity> {
  const w = ident(t.watermark);
  const k = ident(t.key);
  const changed = since === null ? 'NULL::bigint' : `count(*) FILTER (WHERE ${w} >= ${escapeLiteral(since)}::timestamptz)`;
  const row = (
    await db.query(
      `SELECT count(*)::bigint AS rows,
            count(*) FILTER (WHERE ${w} > now())::bigint AS future,
            (array_agg(${k} ORDER BY ${k}) FILTER (WHERE ${w} > now()))[1:5] AS future_examples,
            count(*) FILTER (WHERE ${w} IS NULL)::bigint AS nulls,
            (array_agg(${k} ORDER BY ${k}) FILTER (WHERE ${w} IS NULL))[1:5] AS null_examples,
            ${changed} AS changed, now()::text AS now
       FROM ${qualified(t.schema, t.table)}`,
    )
  ).rows[0];
  return {
    rows: Number(row.rows),
    futureDated: Number(row.future),
    futureExamples: (row.future_examples ?? []).map(Number),
    nullWatermark: Number(row.nulls),
    nullExamples: (row.null_examples ?? []).map(Number),
    changedSince: row.changed === null ? null : Number(row.changed),
    sourceNow: row.now,
  };
}

/** Keys held by more than one row (a source without its primary key), with how many rows each. */
export async function readDuplicateKeys(db: Db, t: SourceTableRef, limit = 20): Promise<{ total: number; examples: { code: number; rows: number }[] }> {
  const k = ident(t.key);
  const result = await db.query(
    `SELECT ${k}::bigint AS code, count(*)::int AS rows, count(*) OVER ()::int AS total
       FROM ${qualified(t.schema, t.table)} GROUP BY ${k} HAVING count(*) > 1 ORDER BY ${k} LIMIT $1`,
    [limit],
  );
  return { total: result.rows[0]?.total ?? 0, examples: result.rows.map((r) => ({ code: Number(r.code), rows: r.rows })) };
}

/** Every distinct value of one column (as text, null included) with its row count. */
export async function countRowsByValue(db: Db, t: SourceTableRef, column: string): Promise<{ value: string | null; rows: number }[]> {
  const c = ident(column);
  const result = await db.query(`SELECT ${c}::text AS value, count(*)::bigint AS rows FROM ${qualified(t.schema, t.table)} GROUP BY ${c}`);
  return result.rows.map((r) => ({ value: r.value, rows: Number(r.rows) }));
}

/** Codes of the rows created (column `createdColumn`) after `since`, lowest first, at most `limit`. */
export async function readCodesCreatedSince(db: Db, t: SourceTableRef, createdColumn: string, since: string, limit = 100_000): Promise<number[]> {
  const k = ident(t.key);
  const result = await db.query(
    `SELECT ${k}::bigint AS code FROM ${qualified(t.schema, t.table)} WHERE ${ident(createdColumn)} > $1::timestamptz ORDER BY ${k} LIMIT $2`,
    [since, limit],
  );
  return result.rows.map((r) => Number(r.code));
}

/**
 * About `size` source rows spread over the table (all of them when it has no more): a Bernoulli
 * sample of the pages' rows, so the estimate is not of the lowest codes only.
 */
export async function readSourceSample(db: Db, t: SourceTableRef, columns: readonly string[], size: number, tableRows: number): Promise<SourceRow[]> {
  const cols = columns.map(ident).join(', ');
  const from = qualified(t.schema, t.table);
  if (tableRows <= size) return (await db.query(`SELECT ${cols} FROM ${from} ORDER BY ${ident(t.key)}`)).rows;
  const percent = Math.min(100, (100 * 1.2 * size) / Math.max(tableRows, 1));
  return (await db.query(`SELECT ${cols} FROM ${from} TABLESAMPLE BERNOULLI ($1) REPEATABLE (17) LIMIT $2`, [percent, size])).rows;
}
