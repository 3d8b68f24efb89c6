import type { Pool, PoolClient } from 'pg';
import type { BatchDigest } from '../../activities/value-digest';

type Db = Pool | PoolClient;

/** A staged customer of one batch: its stable id and source code. */
export interface BatchCustomer {
  id: string;
  code: number;
}

/**
 * The customers one batch of a run covers, read from staging: every code the run staged in the
 * batch's key range with its customer_uuids id, and the codes the batch rejected. Loaded = staged
 * minus rejected: the ids whose destination rows the batch's recorded digest (expected) sums up.
 * Two plain range reads (a correlated EXISTS per staged row was planned as a loop over the batch's issues).
 */
export async function batchCustomers(db: Db, runId: number, batch: { batchNo: number; lo: number; hi: number }): Promise<{ staged: BatchCustomer[]; rejectedCodes: Set<number> }> {
  const [ids, rejects] = await Promise.all([
    db.query<BatchCustomer>(
      `SELECT u."customerId"::text AS id, s.customer_code AS code
       FROM stg_customer s JOIN customer_uuids u ON u.customer_code = s.customer_code AND u.customer_code BETWEEN $2 AND $3
       WHERE s.extracted_run_id = $1 AND s.customer_code BETWEEN $2 AND $3`,
      [runId, batch.lo, batch.hi],
    ),
    db.query<{ code: number }>(`SELECT customer_code AS code FROM migration_issue WHERE run_id = $1 AND batch_no = $2 AND severity = 'REJECT'`, [runId, batch.batchNo]),
  ]);
  return { staged: ids.rows, rejectedCodes: new Set(rejects.rows.map((r) => r.code)) };
}

/** One batch of a run as it ran: key range, outcome, timing (epoch ms) and the digest its load recorded. */
export interface BatchRecord {
  batchNo: number;
  lo: number;
  hi: number;
  status: string;
  attempts: number;
  staged: number | null;
  loaded: number | null;
  rejected: number | null;
  warned: number | null;
  startedMs: number | null;
  finishedMs: number | null;
  expected: BatchDigest | null;
}

/** Every batch of a run in batch order. */
export async function runBatches(db: Db, runId: number): Promise<BatchRecord[]> {
  const result = await db.query(
    `SELECT batch_no, lo, hi, status, attempts, staged, loaded, rejected, warned, expected,
            (EXTRACT(EPOCH FROM started_at) * 1000)::float8 AS started_ms, (EXTRACT(EPOCH FROM finished_at) * 1000)::float8 AS finished_ms
     FROM migration_batch WHERE run_id = $1 ORDER BY batch_no`,
    [runId],
  );
  return result.rows.map((r) => ({
    batchNo: r.batch_no,
    lo: r.lo,
    hi: r.hi,
    status: r.status,
    attempts: r.attempts,
    staged: r.staged,
    loaded: r.loaded,
    rejected: r.rejected,
    warned: r.warned,
    startedMs: r.started_ms === null ? null : Math.round(r.started_ms),
    finishedMs: r.finished_ms === null ? null : Math.round(r.finished_ms),
    expected: r.expected,
  }));
}
