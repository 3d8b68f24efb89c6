import type { Pool, PoolClient } from 'pg';
import type { ExtractionRecord, Fingerprint, Reconciliation } from '../../activities/types';

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
