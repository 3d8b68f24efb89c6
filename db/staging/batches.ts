import type { Pool, PoolClient } from 'pg';
import { rejectedCodesOfBatch } from './issues';
import type { Fingerprint, TypeCounts } from '../../contracts';
import type { BatchDigest } from '../pg-text';

type Db = Pool | PoolClient;

/*
 * Statements on migration_batch, one row per batch of a run (a key range of staged codes): planned and
 * marked failed by the run activities, read by the report, compare, verify-report and reconciliation.
 */

/** How many batches the run has planned (0 before planBatches). */
export async function countBatches(db: Db, runId: number): Promise<number> {
  const planned = await db.query(`SELECT count(*)::int AS n FROM migration_batch WHERE run_id = $1`, [runId]);
  return planned.rows[0].n;
}

/** Cuts the run's staged codes into key ranges of `batchSize` codes, numbered from 1 in code order. */
export async function insertBatchPlan(db: Db, runId: number, batchSize: number): Promise<void> {
  await db.query(
    `INSERT INTO migration_batch (run_id, batch_no, lo, hi)
     SELECT $1, (rn - 1) / $2 + 1, min(customer_code), max(customer_code)
     FROM (SELECT customer_code, row_number() OVER (ORDER BY customer_code) AS rn
           FROM stg_customer WHERE extracted_run_id = $1) numbered
     GROUP BY (rn - 1) / $2`,
    [runId, batchSize],
  );
}

/** The run's planned batches and staged rows, counted in one statement. */
export async function countPlan(db: Db, runId: number): Promise<{ batches: number; staged: number }> {
  const summary = (
    await db.query(
      `SELECT (SELECT count(*)::int FROM migration_batch WHERE run_id = $1) AS batches,
            (SELECT count(*)::int FROM stg_customer WHERE extracted_run_id = $1) AS staged`,
      [runId],
    )
  ).rows[0];
  return { batches: summary.batches, staged: summary.staged };
}

/**
 * Marks a batch FAILED with its error; its attempts become at least `attempts`. Answers the recorded
 * attempts, or null when there is no such batch.
 */
export async function markBatchFailed(db: Db, b: { runId: number; batchNo: number; error: string; attempts: number }): Promise<number | null> {
  const result = await db.query(
    `UPDATE migration_batch SET status = 'FAILED', error = $3, attempts = GREATEST(attempts, $4), finished_at = now() WHERE run_id = $1 AND batch_no = $2
       RETURNING attempts`,
    [b.runId, b.batchNo, b.error, b.attempts],
  );
  return result.rows[0]?.attempts ?? null;
}

/** The report's summary of a run's batches: counts by status, attempts, durations of the done ones, the failed ones. */
export interface BatchSummary {
  total: number;
  done: number;
  failed: number;
  pending: number;
  attempts: number;
  avg_ms: number | null;
  p95_ms: number | null;
  failed_batches: { batchNo: number; lo: number; hi: number; attempts: number; error: string }[];
}

export async function summariseBatches(db: Db, runId: number): Promise<BatchSummary> {
  const result = await db.query<BatchSummary>(
    `SELECT count(*)::int AS total,
            count(*) FILTER (WHERE status = 'DONE')::int AS done,
            count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
            count(*) FILTER (WHERE status = 'PENDING')::int AS pending,
            COALESCE(sum(attempts), 0)::int AS attempts,
            round(avg(EXTRACT(EPOCH FROM finished_at - started_at) * 1000) FILTER (WHERE status = 'DONE'))::int AS avg_ms,
            round((percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM finished_at - started_at) * 1000) FILTER (WHERE status = 'DONE'))::numeric)::int AS p95_ms,
            COALESCE(json_agg(json_build_object('batchNo', batch_no, 'lo', lo, 'hi', hi, 'attempts', attempts, 'error', error)) FILTER (WHERE status = 'FAILED'), '[]') AS failed_batches
     FROM migration_batch WHERE run_id = $1`,
    [runId],
  );
  return result.rows[0];
}

/** Counts per customer type as the run's DONE batches recorded them (reconciliation recomputes them at the end). */
export async function typeCountsOfDoneBatches(db: Db, runId: number): Promise<{ type: string; staged: number; loaded: number; rejected: number }[]> {
  const result = await db.query(
    `SELECT t.key AS type, sum((t.value->>'staged')::int)::int AS staged, sum((t.value->>'loaded')::int)::int AS loaded,
            sum((t.value->>'rejected')::int)::int AS rejected
     FROM migration_batch b CROSS JOIN LATERAL jsonb_each(COALESCE(b.by_type, '{}'::jsonb)) t
     WHERE b.run_id = $1 AND b.status = 'DONE' GROUP BY t.key ORDER BY t.key`,
    [runId],
  );
  return result.rows;
}

/** Loaded, rejected and warned rows summed over the run's DONE batches (a running run's counts so far). */
export async function countsOfDoneBatches(db: Db, runId: number): Promise<{ loaded: number; rejected: number; warned: number }> {
  const result = await db.query(
    `SELECT COALESCE(sum(loaded), 0)::int AS loaded, COALESCE(sum(rejected), 0)::int AS rejected, COALESCE(sum(warned), 0)::int AS warned
     FROM migration_batch WHERE run_id = $1 AND status = 'DONE'`,
    [runId],
  );
  return result.rows[0];
}

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
export async function batchCustomers(
  db: Db,
  runId: number,
  batch: { batchNo: number; lo: number; hi: number },
): Promise<{ staged: BatchCustomer[]; rejectedCodes: Set<number> }> {
  const [ids, rejects] = await Promise.all([
    db.query<BatchCustomer>(
      `SELECT u."customerId"::text AS id, s.customer_code AS code
       FROM stg_customer s JOIN customer_uuids u ON u.customer_code = s.customer_code AND u.customer_code BETWEEN $2 AND $3
       WHERE s.extracted_run_id = $1 AND s.customer_code BETWEEN $2 AND $3`,
      [runId, batch.lo, batch.hi],
    ),
    rejectedCodesOfBatch(db, runId, batch.batchNo),
  ]);
  return { staged: ids.rows, rejectedCodes: new Set(rejects) };
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
  return (await db.query<PlannedBatch>(`SELECT batch_no, lo, hi, status, by_type, expected FROM migration_batch WHERE run_id = $1 ORDER BY batch_no`, [runId]))
    .rows;
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
