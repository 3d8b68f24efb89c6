import type { Pool, PoolClient } from 'pg';
import type { Fingerprint, TypeCounts } from '../../contracts';
import type { BatchDigest } from '../pg-text';

/** The data path's statements on migration_batch: claiming a batch, recording its result, reading them back. */

type Db = Pool | PoolClient;

/** A planned batch as the reconciliation checks it. */
export interface PlannedBatch {
  batch_no: number;
  lo: number;
  hi: number;
  status: string;
  by_type: Record<string, TypeCounts> | null;
  expected: BatchDigest | null;
}

export async function readPlannedBatches(db: Db, runId: number): Promise<PlannedBatch[]> {
  return (await db.query<PlannedBatch>(`SELECT batch_no, lo, hi, status, by_type, expected FROM migration_batch WHERE run_id = $1 ORDER BY batch_no`, [runId])).rows;
}

/** The fingerprint each DONE batch of the run was loaded under. */
export async function readDoneBatchFingerprints(db: Db, runId: number): Promise<{ batch_no: number; fingerprint: Fingerprint | null }[]> {
  const { rows } = await db.query<{ batch_no: number; fingerprint: Fingerprint | null }>(
    `SELECT batch_no, fingerprint FROM migration_batch WHERE run_id = $1 AND status = 'DONE' ORDER BY batch_no`,
    [runId],
  );
  return rows;
}

/**
 * Counts a new attempt of a planned batch of a RUNNING run, answering its key range and attempt
 * number; null when the batch was never planned or the run is no longer running.
 */
export async function claimBatchAttempt(db: Db, runId: number, batchNo: number): Promise<{ lo: number; hi: number; attempts: number } | null> {
  const batch = await db.query(
    `UPDATE migration_batch b SET attempts = attempts + 1, started_at = now() FROM migration_run r
       WHERE b.run_id = $1 AND b.batch_no = $2 AND r.run_id = b.run_id AND r.status = 'RUNNING' RETURNING b.lo, b.hi, b.attempts`,
    [runId, batchNo],
  );
  return batch.rows[0] ?? null;
}

/** The latest attempt number of a batch (undefined when it was never planned). */
export async function readBatchAttempts(db: Db, runId: number, batchNo: number): Promise<number | undefined> {
  return (await db.query(`SELECT attempts FROM migration_batch WHERE run_id = $1 AND batch_no = $2`, [runId, batchNo])).rows[0]?.attempts;
}

/** What a loaded batch records. */
export interface BatchDone {
  staged: number;
  loaded: number;
  rejected: number;
  warned: number;
  byType: Record<string, TypeCounts>;
  /** The digest of the rows it wrote, which the reconciliation checks the destination against. */
  expected: BatchDigest;
  fingerprint: Fingerprint;
}

export async function recordBatchDone(db: Db, runId: number, batchNo: number, done: BatchDone): Promise<void> {
  await db.query(
    `UPDATE migration_batch SET status = 'DONE', staged = $3, loaded = $4, rejected = $5, warned = $6, by_type = $7,
           expected = $8, fingerprint = $9, error = NULL, finished_at = now() WHERE run_id = $1 AND batch_no = $2`,
    [runId, batchNo, done.staged, done.loaded, done.rejected, done.warned, done.byType, done.expected, done.fingerprint],
  );
}
