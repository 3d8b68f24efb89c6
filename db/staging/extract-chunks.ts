import type { Pool, PoolClient } from 'pg';
import { ident } from '../copy';
import type { ExtractSnapshot } from '../../contracts';

/**
 * migration_extract_chunk: one row per chunk an extraction committed (its key range, snapshot, the
 * keys read and their row hashes), what a retried extraction resumes from and the reconciliation
 * proves staging against.
 */

type Db = Pool | PoolClient;

/** What a run's chunks add up to: their count, rows read and staged, the last cursor, and the snapshots taken. */
export interface ExtractChunkTotals {
  chunks: number;
  rowsRead: number;
  rowsStaged: number;
  /** The last chunk's upper key (null: it read to the end, or no chunk yet). */
  cursor: number | null;
  /** The last chunk covered the rest of the key range. */
  complete: boolean;
  /** Each snapshot with the key after which its first chunk read, in chunk order. */
  snapshots: ExtractSnapshot[];
}

export async function readExtractChunkTotals(db: Db, runId: number): Promise<ExtractChunkTotals> {
  const [totals, snapshots] = await Promise.all([
    db.query(
      `SELECT count(*)::int AS chunks, COALESCE(sum(row_count), 0)::int AS read, COALESCE(sum(staged), 0)::int AS staged,
                (array_agg(upto_key ORDER BY chunk_no DESC))[1] AS cursor, COALESCE(bool_or(upto_key IS NULL), false) AS complete
         FROM migration_extract_chunk WHERE run_id = $1`,
      [runId],
    ),
    db.query<ExtractSnapshot>(
      `SELECT snapshot_at AS at, (array_agg(after_key ORDER BY chunk_no))[1] AS "afterKey"
         FROM migration_extract_chunk WHERE run_id = $1 GROUP BY snapshot_at ORDER BY min(chunk_no)`,
      [runId],
    ),
  ]);
  const t = totals.rows[0];
  return { chunks: t.chunks, rowsRead: t.read, rowsStaged: t.staged, cursor: t.cursor, complete: t.complete, snapshots: snapshots.rows };
}

/** One committed chunk as recorded. */
export interface ExtractChunk {
  runId: number;
  chunkNo: number;
  afterKey: number | null;
  uptoKey: number | null;
  snapshotAt: string;
  rowCount: number;
  staged: number;
  keys: number[];
  rowHashes: Buffer;
}

/** Records a chunk, inside the staging transaction that staged its rows. */
export async function recordExtractChunk(db: PoolClient, c: ExtractChunk): Promise<void> {
  await db.query(
    `INSERT INTO migration_extract_chunk (run_id, chunk_no, after_key, upto_key, snapshot_at, row_count, staged, keys, row_hashes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [c.runId, c.chunkNo, c.afterKey, c.uptoKey, c.snapshotAt, c.rowCount, c.staged, c.keys, c.rowHashes],
  );
}

/** A chunk as the reconciliation reads it back: its key range (the keys and hashes it read come one chunk at a time). */
export interface ChunkRecord {
  chunk_no: number;
  after_key: number | null;
  upto_key: number | null;
  row_count: number;
}

export async function readExtractChunks(db: Db, runId: number): Promise<ChunkRecord[]> {
  const chunks = await db.query<ChunkRecord>(
    `SELECT chunk_no, after_key, upto_key, row_count FROM migration_extract_chunk WHERE run_id = $1 ORDER BY chunk_no`,
    [runId],
  );
  return chunks.rows;
}

/**
 * The keys one chunk read and their row hashes. Read chunk by chunk: all of a 10M-row run's at once
 * would hold every key and hash of the table in the worker's memory.
 */
export async function readChunkRowHashes(db: Db, runId: number, chunkNo: number): Promise<{ keys: number[]; hashes: Buffer }> {
  const { rows } = await db.query<{ keys: number[]; hashes: Buffer }>(
    `SELECT keys, row_hashes AS hashes FROM migration_extract_chunk WHERE run_id = $1 AND chunk_no = $2`,
    [runId, chunkNo],
  );
  return rows[0];
}

/**
 * The run's staged rows whose watermark column lies after the snapshot of the chunk that read them:
 * how many, and the first `examples` codes.
 */
export async function readFutureDated(
  db: Db,
  source: { key: string; watermark: string },
  runId: number,
  examples: number,
): Promise<{ count: number; examples: number[] }> {
  const key = ident(source.key);
  const { rows } = await db.query(
    `SELECT count(*)::int AS n, (array_agg(s.${key} ORDER BY s.${key}))[1:${examples}] AS examples
       FROM migration_extract_chunk c
       JOIN LATERAL (SELECT ${key} FROM stg_customer s
                     WHERE s.extracted_run_id = c.run_id AND (c.after_key IS NULL OR s.${key} > c.after_key)
                       AND (c.upto_key IS NULL OR s.${key} <= c.upto_key) AND s.${ident(source.watermark)} > c.snapshot_at) s ON true
       WHERE c.run_id = $1`,
    [runId],
  );
  return { count: rows[0].n, examples: rows[0].examples ?? [] };
}

/** A run that read the code from the source (its extraction chunks list every key they read), with the batch that covered it. */
export interface RunTouch {
  runNumber: number;
  workflowId: string;
  mode: string;
  status: string;
  startedAt: string;
  runDate: string;
  /** The snapshot the row was read in (the source's clock). */
  readAt: string;
  batchNo: number | null;
  batchStatus: string | null;
}

export async function runsThatReadCode(db: Db, code: number): Promise<RunTouch[]> {
  const result = await db.query(
    `SELECT r.run_id, r.workflow_id, r.mode, r.status, r.started_at, r.run_date::text AS run_date, min(c.snapshot_at) AS read_at,
            b.batch_no, b.status AS batch_status
     FROM migration_extract_chunk c
     JOIN migration_run r ON r.run_id = c.run_id
     LEFT JOIN migration_batch b ON b.run_id = r.run_id AND $1 BETWEEN b.lo AND b.hi
     WHERE (c.after_key IS NULL OR c.after_key < $1) AND (c.upto_key IS NULL OR $1 <= c.upto_key) AND $1 = ANY(c.keys)
     GROUP BY r.run_id, b.batch_no, b.status ORDER BY r.run_id`,
    [code],
  );
  return result.rows.map((r) => ({
    runNumber: Number(r.run_id),
    workflowId: r.workflow_id,
    mode: r.mode,
    status: r.status,
    startedAt: r.started_at,
    runDate: r.run_date,
    readAt: r.read_at,
    batchNo: r.batch_no ?? null,
    batchStatus: r.batch_status ?? null,
  }));
}
