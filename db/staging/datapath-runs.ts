import type { Pool, PoolClient } from 'pg';
import type { ExtractionRecord, Fingerprint, Reconciliation } from '../../contracts';

/**
 * The data path's statements on migration_run: the phase it is in, what the extraction recorded,
 * the load path, the reconciliation. (Run bookkeeping — start, finish, locks — lives beside it.)
 */

type Db = Pool | PoolClient;

export async function markReconciling(db: Db, runId: number): Promise<void> {
  await db.query(`UPDATE migration_run SET phase = 'reconciling' WHERE run_id = $1`, [runId]);
}

/** What the reconciliation reads of its run. */
export interface RunToReconcile {
  mode: string;
  settings: { reconcileRemapFraction?: number | string } | null;
  extraction: ExtractionRecord | null;
  fingerprint: Fingerprint | null;
  snapshot_at: string | null;
}

export async function readRunToReconcile(db: Db, runId: number): Promise<RunToReconcile> {
  return (await db.query(`SELECT mode, settings, extraction, fingerprint, snapshot_at FROM migration_run WHERE run_id = $1`, [runId])).rows[0];
}

export async function saveReconciliation(db: Db, runId: number, reconciliation: Reconciliation): Promise<void> {
  await db.query(`UPDATE migration_run SET reconciliation = $2 WHERE run_id = $1`, [runId, reconciliation]);
}

/** Moves a RUNNING run into its extraction; answers its mode, or null when the run is no longer running. */
export async function markExtracting(db: Db, runId: number): Promise<{ mode: string } | null> {
  return (await db.query(`UPDATE migration_run SET phase = 'extracting' WHERE run_id = $1 AND status = 'RUNNING' RETURNING mode`, [runId])).rows[0] ?? null;
}

/**
 * Records a chunk's progress on the run, only while it is RUNNING and unfinished: the row lock this
 * takes orders the chunk's commit with finishRun and the lock take-over. False: the run has ended.
 */
export async function recordExtractedIfRunning(db: PoolClient, runId: number, rowsExtracted: number, snapshotAt: string): Promise<boolean> {
  const alive = await db.query(
    `UPDATE migration_run SET rows_extracted = $2, snapshot_at = COALESCE(snapshot_at, $3) WHERE run_id = $1 AND status = 'RUNNING' AND finished_at IS NULL`,
    [runId, rowsExtracted, snapshotAt],
  );
  return !!alive.rowCount;
}

export async function readRunStatus(db: Db, runId: number): Promise<string | null> {
  return (await db.query(`SELECT status FROM migration_run WHERE run_id = $1`, [runId])).rows[0]?.status ?? null;
}

export async function saveExtraction(db: Db, runId: number, extraction: ExtractionRecord): Promise<void> {
  await db.query(`UPDATE migration_run SET extraction = $2 WHERE run_id = $1`, [runId, extraction]);
}

/** The run's "today" for the mapping's date rules, as 'YYYY-MM-DD'. */
export async function readRunDate(db: Db, runId: number): Promise<string> {
  const result = await db.query(`SELECT run_date::text AS run_date FROM migration_run WHERE run_id = $1`, [runId]);
  if (!result.rowCount) throw new Error(`run ${runId} does not exist`);
  return result.rows[0].run_date;
}

/** The load path a run decided on, recorded once (null: not decided yet). */
export async function readLoadPath<P>(db: Db, runId: number): Promise<P | null> {
  return ((await db.query(`SELECT load_path FROM migration_run WHERE run_id = $1`, [runId])).rows[0]?.load_path ?? null) as P | null;
}

export async function recordLoadPath<P>(db: Db, runId: number, path: P): Promise<void> {
  await db.query(`UPDATE migration_run SET load_path = $2 WHERE run_id = $1`, [runId, path]);
}
