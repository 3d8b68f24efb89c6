/**
 * Staging reads of `migrate preflight`: the pipeline's watermark, its last completed run (for the
 * duration estimate) and which codes were staged before (for reused codes). Read-only.
 */
import type { Pool, PoolClient } from 'pg';

type Db = Pool | PoolClient;

/** The control tables a run writes (the worker creates them with the staging migrations). */
export const STAGING_TABLES = [
  'stg_customer', 'customer_uuids', 'branch_map', 'migration_run', 'migration_batch', 'migration_issue',
  'migration_watermark', 'migration_lock', 'migration_extract_chunk',
] as const;

export interface WatermarkInfo {
  watermark: string;
  runId: number;
  ageSeconds: number;
  /** Where an incremental run would start reading: the watermark minus the look-back. */
  since: string;
}

/** The pipeline's watermark, the run that set it and its age by the staging clock; null before the first completed run. */
export async function readWatermark(db: Db, pipeline: string, lookbackSeconds: number): Promise<WatermarkInfo | null> {
  const row = (await db.query(
    `SELECT watermark::text AS watermark, run_id, extract(epoch FROM now() - watermark)::float8 AS age,
            (watermark - make_interval(secs => $2))::text AS since
       FROM migration_watermark WHERE pipeline = $1`,
    [pipeline, lookbackSeconds],
  )).rows[0];
  return row ? { watermark: row.watermark, runId: Number(row.run_id), ageSeconds: row.age, since: row.since } : null;
}

export interface CompletedRunRates {
  runId: number;
  workflowId: string;
  mode: string;
  finishedAt: string;
  rowsStaged: number;
  totalSeconds: number;
  /** Staged rows over the time from the first batch's start to the last batch's end. */
  loadSeconds: number | null;
}

/** The pipeline's last COMPLETED run (a full one when there is any), with its rows and times. */
export async function readLastCompletedRun(db: Db, pipeline: string): Promise<CompletedRunRates | null> {
  const row = (await db.query(
    `SELECT r.run_id, r.workflow_id, r.mode, r.finished_at::text AS finished_at, COALESCE(r.rows_staged, 0) AS rows_staged,
            extract(epoch FROM r.finished_at - r.started_at)::float8 AS total_seconds,
            (SELECT extract(epoch FROM max(b.finished_at) - min(b.started_at))::float8 FROM migration_batch b WHERE b.run_id = r.run_id) AS load_seconds
       FROM migration_run r
      WHERE r.pipeline = $1 AND r.status = 'COMPLETED' AND r.finished_at IS NOT NULL
      ORDER BY (r.mode = 'full') DESC, r.run_id DESC LIMIT 1`,
    [pipeline],
  )).rows[0];
  if (!row) return null;
  return {
    runId: Number(row.run_id),
    workflowId: row.workflow_id,
    mode: row.mode,
    finishedAt: row.finished_at,
    rowsStaged: Number(row.rows_staged),
    totalSeconds: row.total_seconds,
    loadSeconds: row.load_seconds,
  };
}

/** Which of `codes` are staged already (by an earlier run), lowest first. */
export async function readStagedCodes(db: Db, codes: readonly number[]): Promise<number[]> {
  if (!codes.length) return [];
  const result = await db.query(`SELECT customer_code FROM stg_customer WHERE customer_code = ANY($1::int[]) ORDER BY customer_code`, [codes]);
  return result.rows.map((r) => Number(r.customer_code));
}
