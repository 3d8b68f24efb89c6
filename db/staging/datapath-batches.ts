import type { Pool, PoolClient } from 'pg';
import type { Fingerprint, TypeCounts } from '../../activities/types';
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
