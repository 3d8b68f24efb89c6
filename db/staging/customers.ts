import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { ident } from '../copy';
import { withTransaction } from '../transaction';
import type { CompiledMapping, SourceRow } from '../../mapping/types';
import { readSetDigest, type SetDigest } from '../set-digest';

/**
 * stg_customer and customer_uuids: the staged source rows and their stable ids. What `explain`
 * reads of one customer, what the extraction writes chunk by chunk, what the load and the
 * reconciliation read by key range, and the reconciliation's whole-table set comparisons.
 */

type Db = Pool | PoolClient;

/** One customer as staging holds it: its staged row (the mapping's source columns), the run that last staged it, its ids. */
export interface StagedCustomer {
  row: SourceRow | null;
  extractedRunId: number | null;
  customerId: string | null;
  customerProfileId: string | null;
}

export async function stagedCustomer(db: Db, mapping: CompiledMapping, code: number): Promise<StagedCustomer> {
  const columns = mapping.source.columns.map((c) => `s.${ident(c)}`).join(', ');
  const [staged, ids] = await Promise.all([
    db.query(`SELECT ${columns}, s.extracted_run_id FROM stg_customer s WHERE s.customer_code = $1`, [code]),
    db.query(`SELECT "customerId"::text AS cid, "customerProfileId"::text AS pid FROM customer_uuids WHERE customer_code = $1`, [code]),
  ]);
  const s = staged.rows[0];
  const row = s ? (Object.fromEntries(mapping.source.columns.map((c) => [c, s[c]])) as SourceRow) : null;
  return { row, extractedRunId: s ? Number(s.extracted_run_id) : null, customerId: ids.rows[0]?.cid ?? null, customerProfileId: ids.rows[0]?.pid ?? null };
}

/** How many rows the run staged (stg_customer rows it last wrote). */
export async function countStagedByRun(db: Db, runId: number): Promise<number> {
  return (await db.query(`SELECT count(*)::int AS n FROM stg_customer WHERE extracted_run_id = $1`, [runId])).rows[0].n;
}

/** A staged customer's id and code. */
export interface StagedId {
  id: string;
  code: number;
}

/**
 * Streams a column of another database (COPY text of one value a line) into a temp table `temp`
 * (column `id` of `type`) of the staging database, analysed, and runs `body` on it in the same
 * staging transaction (the temp table is dropped at its end): a whole-table set comparison is then
 * one hash anti-join there instead of a million index probes. The column's source connection is
 * held until the body is done.
 */
export async function withIdsInStaging<T>(
  from: Pool,
  staging: Pool,
  copyOut: (client: PoolClient) => Readable,
  { temp, type }: { temp: 'rec_destination_ids' | 'rec_source_codes'; type: 'uuid' | 'integer' },
  body: (staging: PoolClient) => Promise<T>,
): Promise<T> {
  const source = await from.connect();
  try {
    return await withTransaction(staging, async (client) => {
      await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${temp} (id ${type}) ON COMMIT DROP`);
      await pipeline(copyOut(source), client.query(copyFrom(`COPY ${temp} (id) FROM STDIN`)));
      await client.query(`ANALYZE ${temp}`);
      return body(client);
    });
  } finally {
    source.release();
  }
}

/** Inside withIdsInStaging(…'rec_destination_ids'…): how many of the ids belong to no staged code. */
export async function countIdsWithoutStagedCode(staging: PoolClient): Promise<number> {
  const lost = await staging.query(
    `SELECT count(*)::int AS n FROM rec_destination_ids d
         WHERE NOT EXISTS (SELECT 1 FROM customer_uuids u JOIN stg_customer s ON s.customer_code = u.customer_code WHERE u."customerId" = d.id)`,
  );
  return lost.rows[0].n;
}

/** Inside withIdsInStaging(…'rec_source_codes'…): the staged customers whose code the source no longer holds, by code. */
export async function stagedCodesNotIn(staging: PoolClient): Promise<StagedId[]> {
  const gone = await staging.query(
    `SELECT s.customer_code AS code, u."customerId"::text AS id FROM stg_customer s JOIN customer_uuids u USING (customer_code)
         WHERE NOT EXISTS (SELECT 1 FROM rec_source_codes c WHERE c.id = s.customer_code) ORDER BY s.customer_code`,
  );
  return gone.rows.map((r) => ({ id: r.id, code: Number(r.code) }));
}

/** A staged customer whose latest row was rejected, with the run that staged (and rejected) it. */
export interface RejectedCustomer extends StagedId {
  runId: number;
}

/**
 * Customers whose latest staged row was rejected (migration_issue holds a REJECT of the run that
 * staged it), by code. Those another run rejected are the candidates for stale: the destination
 * may still hold an older row of theirs. Read from the issues, a few per cent of the rows, so the
 * wide staged table is only probed.
 */
export async function rejectedLatest(db: Db): Promise<RejectedCustomer[]> {
  const candidates = await db.query(
    `SELECT DISTINCT s.customer_code AS code, u."customerId"::text AS id, s.extracted_run_id AS run
       FROM migration_issue i
       JOIN stg_customer s ON s.customer_code = i.customer_code AND s.extracted_run_id = i.run_id
       JOIN customer_uuids u ON u.customer_code = s.customer_code
       WHERE i.severity = 'REJECT'
       ORDER BY s.customer_code`,
  );
  return candidates.rows.map((r) => ({ id: r.id, code: Number(r.code), runId: Number(r.run) }));
}

/** The set digest (db/set-digest.ts) of the staged customer codes. */
export async function stagedCodeSetDigest(db: Db): Promise<SetDigest> {
  return readSetDigest(db, 'customer_code', 'FROM stg_customer');
}

/** The session's temp table a chunk of source rows is COPYed into before it is upserted (shaped as stg_customer's `columns`). */
export async function createExtractChunkTable(db: PoolClient, columns: readonly string[]): Promise<void> {
  await db.query(`CREATE TEMP TABLE IF NOT EXISTS extract_chunk AS SELECT ${columns.map(ident).join(', ')} FROM stg_customer WITH NO DATA`);
}

/** Whether stg_customer holds no row with a key after `after` (null: no row at all). */
export async function nothingStagedAfter(db: PoolClient, key: string, after: number | null): Promise<boolean> {
  const above = after === null ? 'true' : `${ident(key)} > ${Number(after)}`;
  return (await db.query(`SELECT NOT EXISTS (SELECT 1 FROM stg_customer WHERE ${above}) AS direct`)).rows[0].direct;
}

/** A COPY into stg_customer of rows of `columns` followed by the extracting run's id. */
export function copyIntoStaged(db: PoolClient, columns: readonly string[]): Writable {
  return db.query(copyFrom(`COPY stg_customer (${columns.map(ident).join(', ')}, extracted_run_id) FROM STDIN`));
}

export async function emptyExtractChunk(db: PoolClient): Promise<void> {
  await db.query('TRUNCATE extract_chunk');
}

/** A COPY into extract_chunk of rows of `columns`. */
export function copyIntoExtractChunk(db: PoolClient, columns: readonly string[]): Writable {
  return db.query(copyFrom(`COPY extract_chunk (${columns.map(ident).join(', ')}) FROM STDIN`));
}

/**
 * Stages extract_chunk's rows under `runId`: each replaces the staged row of its key, when `mirror`
 * (a full run) always, else only where the staged row's watermark is not newer. Answers the rows staged.
 */
export async function stageExtractChunk(
  db: PoolClient,
  source: { key: string; watermark: string },
  columns: readonly string[],
  runId: number,
  mirror: boolean,
): Promise<number> {
  const { key, watermark } = source;
  const columnList = columns.map(ident).join(', ');
  const updates = columns
    .filter((c) => c !== key)
    .map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`)
    .join(', ');
  const upsert = await db.query(
    `INSERT INTO stg_customer (${columnList}, extracted_run_id)
           SELECT ${columnList}, $1 FROM extract_chunk
           ON CONFLICT (${ident(key)}) DO UPDATE SET ${updates}, extracted_run_id = EXCLUDED.extracted_run_id
           ${mirror ? '' : `WHERE stg_customer.${ident(watermark)} <= EXCLUDED.${ident(watermark)}`}`,
    [runId],
  );
  return upsert.rowCount ?? 0;
}

/**
 * The rows the run staged in one chunk's key range (after `afterKey`, up to `uptoKey`; null: open),
 * `columns` in key order, as COPY text: the form the extraction hashed the source's rows in.
 */
export function copyOutStagedRange(
  db: PoolClient,
  key: string,
  columns: readonly string[],
  runId: number,
  range: { afterKey: number | null; uptoKey: number | null },
): Readable {
  const k = ident(key);
  const bounds = [
    `extracted_run_id = ${Number(runId)}`,
    range.afterKey === null ? null : `${k} > ${Number(range.afterKey)}`,
    range.uptoKey === null ? null : `${k} <= ${Number(range.uptoKey)}`,
  ].filter(Boolean);
  return db.query(copyTo(`COPY (SELECT ${columns.map(ident).join(', ')} FROM stg_customer WHERE ${bounds.join(' AND ')} ORDER BY ${k}) TO STDOUT`));
}

/**
 * Reads one key range of a run's staged rows in key order through a cursor, `fetchRows` at a time,
 * each row as an array: the mapping's source columns (its order), then customer_uuids' customerId
 * and customerProfileId (null when the code has none). `visit` sees each fetch's rows before the next.
 *
 * The range repeated on customer_uuids lets PostgreSQL merge two index range scans; without it the
 * planner hashes the whole of customer_uuids for every batch (a scan of millions of rows each).
 */
export async function fetchStagedRange(
  staging: Pool,
  source: { key: string; columns: readonly string[] },
  { runId, lo, hi }: { runId: number; lo: number; hi: number },
  fetchRows: number,
  visit: (rows: unknown[][]) => void,
): Promise<void> {
  const columns = source.columns.map((c) => `s.${ident(c)}`).join(', ');
  await withTransaction(staging, async (client) => {
    await client.query({
      text: `DECLARE staged_range NO SCROLL CURSOR FOR
             SELECT ${columns}, u."customerId", u."customerProfileId"
             FROM stg_customer s
             LEFT JOIN customer_uuids u ON u.customer_code = s.${ident(source.key)} AND u.customer_code BETWEEN $2 AND $3
             WHERE s.extracted_run_id = $1 AND s.${ident(source.key)} BETWEEN $2 AND $3
             ORDER BY s.${ident(source.key)}`,
      values: [runId, lo, hi],
    });
    for (;;) {
      const { rows } = await client.query<unknown[]>({ text: `FETCH ${Number(fetchRows)} FROM staged_range`, rowMode: 'array' });
      visit(rows);
      if (rows.length < fetchRows) break;
    }
  });
}

/** Which of `codes` are staged already (by an earlier run), lowest first. */
export async function readStagedCodes(db: Db, codes: readonly number[]): Promise<number[]> {
  if (!codes.length) return [];
  const result = await db.query(`SELECT customer_code FROM stg_customer WHERE customer_code = ANY($1::int[]) ORDER BY customer_code`, [codes]);
  return result.rows.map((r) => Number(r.customer_code));
}
