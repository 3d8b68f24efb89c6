/**
 * Statements on migration_run, one row per migration run (across continue-as-new): written by the
 * run activities (activities/runs.ts), read by them and by the CLI (status, report, compare,
 * preflight, rejects, repair-constraints).
 */
import type { Pool, PoolClient } from 'pg';
import type { ExtractionRecord, Fingerprint, Reconciliation } from '../../contracts';

type Db = Pool | PoolClient;

/** What beginRun answers a retry with: the run a workflow execution already began. */
export interface BegunRun {
  runId: number;
  pipeline: string;
  mode: string;
  note: string | null;
  watermarkBefore: string | null;
  extractSince: string | null;
  settings: unknown;
}

/** The run a Temporal execution (its first run id) began, if any. */
export async function findRunOfExecution(db: Db, temporalRunId: string): Promise<BegunRun | null> {
  const r = (
    await db.query(`SELECT run_id, pipeline, mode, watermark_before, extract_since, settings, note FROM migration_run WHERE temporal_run_id = $1`, [
      temporalRunId,
    ])
  ).rows[0];
  return r
    ? {
        runId: Number(r.run_id),
        pipeline: r.pipeline,
        mode: r.mode,
        note: r.note,
        watermarkBefore: r.watermark_before,
        extractSince: r.extract_since,
        settings: r.settings,
      }
    : null;
}

/** Marks a workflow's still-RUNNING runs FAILED: it ended outside the workflow (terminated or timed out). */
export async function failRunsEndedOutsideWorkflow(db: Db, workflowId: string): Promise<void> {
  await db.query(
    `UPDATE migration_run SET status = 'FAILED', finished_at = now(), error = 'ended outside the workflow (terminated or timed out)' WHERE workflow_id = $1 AND status = 'RUNNING'`,
    [workflowId],
  );
}

export interface NewRun {
  pipeline: string;
  workflowId: string;
  temporalRunId: string;
  mode: string;
  /** The workflow's start time, ISO; the run date is its UTC date. */
  startedAt: string;
  watermarkBefore: string | null;
  extractSince: string | null;
  settings: unknown;
  note: string | null;
  fingerprint: unknown;
}

/** Inserts the run's row; answers its run id. */
export async function insertRun(db: Db, run: NewRun): Promise<number> {
  const result = await db.query(
    `INSERT INTO migration_run (pipeline, workflow_id, temporal_run_id, mode, run_date, started_at, watermark_before, extract_since, settings, note, fingerprint)
     VALUES ($1, $2, $3, $4, ($5::timestamptz AT TIME ZONE 'UTC')::date, $5, $6, $7, $8, $9, $10) RETURNING run_id`,
    [run.pipeline, run.workflowId, run.temporalRunId, run.mode, run.startedAt, run.watermarkBefore, run.extractSince, run.settings, run.note, run.fingerprint],
  );
  return Number(result.rows[0].run_id);
}

/** What finishing a run needs of it, read with its row locked FOR UPDATE; null when there is no such run. */
export async function lockRunToFinish(
  db: PoolClient,
  runId: number,
): Promise<{ pipeline: string; temporalRunId: string; watermarkBefore: string | null; snapshotAt: string | null } | null> {
  const r = (await db.query(`SELECT pipeline, temporal_run_id, watermark_before, snapshot_at FROM migration_run WHERE run_id = $1 FOR UPDATE`, [runId]))
    .rows[0];
  return r ? { pipeline: r.pipeline, temporalRunId: r.temporal_run_id, watermarkBefore: r.watermark_before, snapshotAt: r.snapshot_at } : null;
}

export interface RunEnd {
  runId: number;
  status: string;
  error: string | null;
  /** null keeps what the run recorded. */
  counts: unknown;
  reconciliation: unknown;
  watermarkAfter: string | null;
}

/** Records the run's end: status, phase 'finished', first finish time, and its final records. */
export async function recordRunFinished(db: Db, end: RunEnd): Promise<void> {
  await db.query(
    `UPDATE migration_run SET status = $2, phase = 'finished', finished_at = COALESCE(finished_at, now()), error = $3,
       counts = COALESCE($4, counts), reconciliation = COALESCE($5, reconciliation), watermark_after = $6
     WHERE run_id = $1`,
    [end.runId, end.status, end.error, end.counts, end.reconciliation, end.watermarkAfter],
  );
}

export async function setRunPhase(db: Db, runId: number, phase: string): Promise<void> {
  await db.query(`UPDATE migration_run SET phase = $2 WHERE run_id = $1`, [runId, phase]);
}

/** Locks the run's row FOR UPDATE until the transaction ends (serialises planning the run's batches). */
export async function lockRun(db: PoolClient, runId: number): Promise<void> {
  await db.query(`SELECT 1 FROM migration_run WHERE run_id = $1 FOR UPDATE`, [runId]);
}

/** Records the planned batches and staged rows; the run moves on to loading. */
export async function recordRunPlanned(db: Db, runId: number, plan: { batches: number; staged: number }): Promise<void> {
  await db.query(`UPDATE migration_run SET batch_count = $2, rows_staged = $3, phase = 'loading' WHERE run_id = $1`, [runId, plan.batches, plan.staged]);
}

/** The workflow id of a run number; null when there is no such run. */
export async function workflowIdOfRun(db: Db, runId: number): Promise<string | null> {
  const result = await db.query<{ workflow_id: string }>(`SELECT workflow_id FROM migration_run WHERE run_id = $1`, [runId]);
  return result.rows[0]?.workflow_id ?? null;
}

/** The latest run number of a workflow id (a workflow id restarted with --id has several); null when none. */
export async function latestRunIdOfWorkflow(db: Db, workflowId: string): Promise<number | null> {
  const row = (await db.query(`SELECT run_id FROM migration_run WHERE workflow_id = $1 ORDER BY run_id DESC LIMIT 1`, [workflowId])).rows[0];
  return row ? Number(row.run_id) : null;
}

/** Rows the extraction has committed so far; null when there is no such run (or it has not counted yet). */
export async function rowsExtractedOfRun(db: Db, runId: number): Promise<number | null> {
  const row = (await db.query(`SELECT rows_extracted FROM migration_run WHERE run_id = $1`, [runId])).rows[0];
  return row?.rows_extracted ?? null;
}

/** A run's row as the report reads it (snake_case columns as stored), with where its bulk load's dropped keys stand. */
export interface RunRecord {
  run_id: number;
  pipeline: string;
  workflow_id: string;
  mode: string;
  status: string;
  phase: string;
  note: string | null;
  error: string | null;
  started_at: string;
  finished_at: string | null;
  run_date: string;
  watermark_before: string | null;
  watermark_after: string | null;
  extract_since: string | null;
  rows_extracted: number | null;
  rows_staged: number | null;
  batch_count: number | null;
  counts: Record<string, number> | null;
  reconciliation: unknown;
  snapshot_at: string | null;
  extraction: unknown;
  fingerprint: unknown;
  load_path: unknown;
  bulk_load: { state: string; dropped_at: string | null; restored_at: string | null; error: string | null } | null;
}

/** The latest run of a workflow id, every column the report shows; null when none. */
export async function latestRunRecordOfWorkflow(db: Db, workflowId: string): Promise<RunRecord | null> {
  const result = await db.query<RunRecord>(
    `SELECT run_id, pipeline, workflow_id, mode, status, phase, note, error, started_at, finished_at, run_date::text,
            watermark_before, watermark_after, extract_since, rows_extracted, rows_staged, batch_count, counts, reconciliation,
            snapshot_at, extraction, fingerprint, load_path,
            (SELECT json_build_object('state', b.state, 'dropped_at', b.dropped_at::text, 'restored_at', b.restored_at::text, 'error', b.error)
             FROM migration_bulk_load b WHERE b.run_id = migration_run.run_id) AS bulk_load
     FROM migration_run WHERE workflow_id = $1 ORDER BY run_id DESC LIMIT 1`,
    [workflowId],
  );
  return result.rows[0] ?? null;
}

/** The latest run of a workflow id with its batches summed up: what `status` shows when no worker answers. */
export interface RunWithBatchTotals extends Pick<
  RunRecord,
  | 'run_id'
  | 'pipeline'
  | 'mode'
  | 'status'
  | 'phase'
  | 'note'
  | 'error'
  | 'started_at'
  | 'watermark_before'
  | 'watermark_after'
  | 'rows_extracted'
  | 'rows_staged'
  | 'batch_count'
  | 'counts'
  | 'reconciliation'
> {
  done: number;
  failed: number;
  loaded: number;
  rejected: number;
  warned: number;
  failed_batches: { batchNo: number; error: string; attempts: number }[];
  first_started: string | null;
}

export async function latestRunWithBatchTotals(db: Db, workflowId: string): Promise<RunWithBatchTotals | null> {
  const result = await db.query<RunWithBatchTotals>(
    `SELECT r.run_id, r.pipeline, r.mode, r.status, r.phase, r.note, r.error, r.started_at, r.watermark_before, r.watermark_after,
            r.rows_extracted, r.rows_staged, r.batch_count, r.counts, r.reconciliation,
            b.done, b.failed, b.loaded, b.rejected, b.warned, b.failed_batches, b.first_started
     FROM migration_run r
     LEFT JOIN LATERAL (
       SELECT count(*) FILTER (WHERE status = 'DONE')::int AS done,
              count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
              COALESCE(sum(loaded), 0)::int AS loaded, COALESCE(sum(rejected), 0)::int AS rejected, COALESCE(sum(warned), 0)::int AS warned,
              min(started_at) AS first_started,
              COALESCE(json_agg(json_build_object('batchNo', batch_no, 'error', error, 'attempts', attempts) ORDER BY batch_no)
                       FILTER (WHERE status = 'FAILED'), '[]') AS failed_batches
       FROM migration_batch WHERE run_id = r.run_id) b ON true
     WHERE r.workflow_id = $1 ORDER BY r.run_id DESC LIMIT 1`,
    [workflowId],
  );
  return result.rows[0] ?? null;
}

/** When a run's phases began and ended (epoch ms; null where the run did not get there). */
export interface RunTimes {
  startedMs: number;
  firstBatchStartedMs: number | null;
  lastBatchFinishedMs: number | null;
  reconciledMs: number | null;
  finishedMs: number | null;
}

const ms = (v: number | null): number | null => (v === null ? null : Math.round(Number(v)));

/** The run's start and end, its batches' first start and last finish, and its reconciliation's time. */
export async function runTimes(db: Db, runId: number): Promise<RunTimes> {
  const r = (
    await db.query(
      `SELECT EXTRACT(EPOCH FROM r.started_at) * 1000 AS started, EXTRACT(EPOCH FROM r.finished_at) * 1000 AS finished,
            EXTRACT(EPOCH FROM (r.reconciliation->>'checkedAt')::timestamptz) * 1000 AS reconciled,
            (SELECT EXTRACT(EPOCH FROM min(started_at)) * 1000 FROM migration_batch WHERE run_id = r.run_id) AS first_batch,
            (SELECT EXTRACT(EPOCH FROM max(finished_at)) * 1000 FROM migration_batch WHERE run_id = r.run_id) AS last_batch
     FROM migration_run r WHERE r.run_id = $1`,
      [runId],
    )
  ).rows[0];
  if (!r) throw Object.assign(new Error(`no run ${runId} in the staging database`), { name: 'UsageError' });
  return {
    startedMs: ms(r.started)!,
    firstBatchStartedMs: ms(r.first_batch),
    lastBatchFinishedMs: ms(r.last_batch),
    reconciledMs: ms(r.reconciled),
    finishedMs: ms(r.finished),
  };
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

/** The pipeline's last COMPLETED run (a full one when there is any), with its rows and times (preflight's estimate). */
export async function readLastCompletedRun(db: Db, pipeline: string): Promise<CompletedRunRates | null> {
  const row = (
    await db.query(
      `SELECT r.run_id, r.workflow_id, r.mode, r.finished_at::text AS finished_at, COALESCE(r.rows_staged, 0) AS rows_staged,
            extract(epoch FROM r.finished_at - r.started_at)::float8 AS total_seconds,
            (SELECT extract(epoch FROM max(b.finished_at) - min(b.started_at))::float8 FROM migration_batch b WHERE b.run_id = r.run_id) AS load_seconds
       FROM migration_run r
      WHERE r.pipeline = $1 AND r.status = 'COMPLETED' AND r.finished_at IS NOT NULL
      ORDER BY (r.mode = 'full') DESC, r.run_id DESC LIMIT 1`,
      [pipeline],
    )
  ).rows[0];
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

/** A run's effective mode ('full' | 'incremental'), or null when there is no such run. */
export async function readRunMode(db: Db, runId: number): Promise<string | null> {
  const result = await db.query<{ mode: string }>(`SELECT mode FROM migration_run WHERE run_id = $1`, [runId]);
  return result.rows[0]?.mode ?? null;
}
