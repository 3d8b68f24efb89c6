import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../contracts';
import type { ActivityDeps } from './deps';
import type { BeginRunInput, BeginRunResult, FinishRunInput, RunSettings } from '../contracts';
import { log } from '../lib/log';
import { withTransaction } from '../db/transaction';
import { fingerprintOf } from './fingerprint';
import { readBranches } from './staged';
import { readRunMode } from '../db/staging/metrics';

/** Run bookkeeping in the staging control tables: the pipeline lock, the run row, the watermark. */
export function createRunActivities({ pools, config, temporal, searchAttributes, mapping, metrics }: ActivityDeps) {
  const pipelineOf = (requested: string) => requested || config.PIPELINE;

  function settingsFor(overrides: BeginRunInput['overrides']): RunSettings {
    return {
      batchSize: overrides.batchSize ?? config.BATCH_SIZE,
      parallelism: overrides.parallelism ?? config.BATCH_PARALLELISM,
      extractChunkSize: config.EXTRACT_CHUNK_SIZE,
      lookbackSeconds: config.INCREMENTAL_LOOKBACK_SECONDS,
      rejectMaxCount: overrides.rejectMaxCount ?? config.REJECT_MAX_COUNT ?? null,
      rejectMaxRatio: overrides.rejectMaxRatio ?? config.REJECT_MAX_RATIO ?? null,
      decisionTimeout: overrides.decisionTimeout ?? config.FAILED_BATCH_DECISION_TIMEOUT,
      reconcileRemapFraction: overrides.reconcileRemapFraction ?? config.RECONCILE_REMAP_FRACTION,
      searchAttributes,
    };
  }

  /** True when the workflow holding a lock is still open (a terminated run leaves its lock behind). */
  async function lockHolderIsRunning(workflowId: string): Promise<boolean> {
    try {
      const description = await temporal.workflow.getHandle(workflowId).describe();
      return description.status.name === 'RUNNING';
    } catch (err) {
      if ((err as Error).name === 'WorkflowNotFoundError') return false;
      throw err;
    }
  }

  async function beginRun(input: BeginRunInput): Promise<BeginRunResult> {
    const pipeline = pipelineOf(input.pipeline);
    const client = await pools.staging.connect();
    try {
      await client.query('BEGIN');
      const existing = await client.query(
        `SELECT run_id, pipeline, mode, watermark_before, extract_since, settings, note FROM migration_run WHERE temporal_run_id = $1`,
        [input.temporalRunId],
      );
      if (existing.rowCount) {
        // A retry of this very activity after it committed: answer the same.
        await client.query('COMMIT');
        const r = existing.rows[0];
        return { started: true, runId: Number(r.run_id), pipeline: r.pipeline, effectiveMode: r.mode, note: r.note, watermarkBefore: r.watermark_before, extractSince: r.extract_since, settings: r.settings };
      }
      await client.query(
        `INSERT INTO migration_lock (pipeline, workflow_id, temporal_run_id) VALUES ($1, $2, $3) ON CONFLICT (pipeline) DO NOTHING`,
        [pipeline, input.workflowId, input.temporalRunId],
      );
      const lock = (await client.query(`SELECT workflow_id, temporal_run_id FROM migration_lock WHERE pipeline = $1 FOR UPDATE`, [pipeline])).rows[0];
      if (lock.temporal_run_id !== input.temporalRunId) {
        // Temporal keeps at most one open execution per workflow id: a lock left under this run's own
        // workflow id (a terminated run restarted with the same --id) belongs to a run that has ended.
        if (lock.workflow_id !== input.workflowId && (await lockHolderIsRunning(lock.workflow_id))) {
          await client.query('ROLLBACK');
          return { started: false, reason: `another run of pipeline ${pipeline} is in progress: workflow ${lock.workflow_id}`, activeWorkflowId: lock.workflow_id };
        }
        log('warn', 'taking over the lock of a run that is no longer open', { pipeline, previousWorkflowId: lock.workflow_id });
        await client.query(`UPDATE migration_run SET status = 'FAILED', finished_at = now(), error = 'ended outside the workflow (terminated or timed out)' WHERE workflow_id = $1 AND status = 'RUNNING'`, [lock.workflow_id]);
        await client.query(`UPDATE migration_lock SET workflow_id = $2, temporal_run_id = $3, run_id = NULL, acquired_at = now() WHERE pipeline = $1`, [pipeline, input.workflowId, input.temporalRunId]);
      }
      const settings = settingsFor(input.overrides);
      const watermark = (await client.query(
        `SELECT watermark, watermark - make_interval(secs => $2) AS since FROM migration_watermark WHERE pipeline = $1`,
        [pipeline, settings.lookbackSeconds],
      )).rows[0];
      let effectiveMode = input.mode;
      let note: string | null = null;
      if (input.mode === 'incremental' && !watermark) {
        effectiveMode = 'full';
        note = 'no watermark yet: this incremental run loads every source row, as a full run';
      }
      const extractSince = effectiveMode === 'incremental' ? watermark.since : null;
      const fingerprint = fingerprintOf(mapping, await readBranches(pools.staging));
      const run = await client.query(
        `INSERT INTO migration_run (pipeline, workflow_id, temporal_run_id, mode, run_date, started_at, watermark_before, extract_since, settings, note, fingerprint)
         VALUES ($1, $2, $3, $4, ($5::timestamptz AT TIME ZONE 'UTC')::date, $5, $6, $7, $8, $9, $10) RETURNING run_id`,
        [pipeline, input.workflowId, input.temporalRunId, effectiveMode, input.startedAt, watermark?.watermark ?? null, extractSince, settings, note, fingerprint],
      );
      const runId = Number(run.rows[0].run_id);
      await client.query(`UPDATE migration_lock SET run_id = $2 WHERE pipeline = $1`, [pipeline, runId]);
      await client.query('COMMIT');
      log('info', 'run started', { runId, pipeline, mode: effectiveMode, workflowId: input.workflowId });
      return { started: true, runId, pipeline, effectiveMode, note, watermarkBefore: watermark?.watermark ?? null, extractSince, settings };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async function finishRun(input: FinishRunInput): Promise<{ watermarkAfter: string | null }> {
    const result = await withTransaction(pools.staging, async (client) => {
      const run = (await client.query(`SELECT pipeline, temporal_run_id, watermark_before, snapshot_at FROM migration_run WHERE run_id = $1 FOR UPDATE`, [input.runId])).rows[0];
      if (!run) throw ApplicationFailure.nonRetryable(`run ${input.runId} does not exist`, FailureType.config);
      let watermarkAfter: string | null = run.watermark_before;
      // The watermark is the source's clock at the run's snapshot (contract 5.1), never a value read:
      // set as it is, even if lower than before (a source clock set back re-reads rows, loses none).
      if (input.advanceWatermark && run.snapshot_at) {
        const w = await client.query(
          `INSERT INTO migration_watermark (pipeline, source_table, watermark, run_id) VALUES ($1, $2, $3, $4)
           ON CONFLICT (pipeline) DO UPDATE SET watermark = EXCLUDED.watermark, run_id = EXCLUDED.run_id, updated_at = now()
           RETURNING watermark`,
          [run.pipeline, mapping.source.table, run.snapshot_at, input.runId],
        );
        watermarkAfter = w.rows[0].watermark;
      }
      await client.query(
        `UPDATE migration_run SET status = $2, phase = 'finished', finished_at = COALESCE(finished_at, now()), error = $3,
           counts = COALESCE($4, counts), reconciliation = COALESCE($5, reconciliation), watermark_after = $6
         WHERE run_id = $1`,
        [input.runId, input.status, input.error ?? null, input.counts ?? null, input.reconciliation ?? null, watermarkAfter],
      );
      await client.query(`DELETE FROM migration_lock WHERE pipeline = $1 AND temporal_run_id = $2`, [run.pipeline, run.temporal_run_id]);
      return { watermarkAfter };
    });
    log('info', 'run finished', { runId: input.runId, status: input.status });
    return result;
  }

  async function setPhase(runId: number, phase: string): Promise<void> {
    await pools.staging.query(`UPDATE migration_run SET phase = $2 WHERE run_id = $1`, [runId, phase]);
  }

  /**
   * Gives each newly staged code its two ids, once; existing codes keep theirs forever. Two halves of
   * the key range run at once (one statement is one core; generating the ids is CPU-bound), each its
   * own transaction: a retry only inserts what is still missing.
   */
  async function assignUuids({ runId }: { runId: number }): Promise<{ assigned: number }> {
    await setPhase(runId, 'assigning-ids');
    const range = (await pools.staging.query(`SELECT min(customer_code) AS lo, max(customer_code) AS hi FROM stg_customer WHERE extracted_run_id = $1`, [runId])).rows[0];
    if (range.lo === null) return { assigned: 0 };
    const middle = Math.floor((range.lo + range.hi) / 2);
    const halves = await Promise.all(
      [[range.lo, middle], [middle + 1, range.hi]].map(([lo, hi]) =>
        pools.staging.query(
          `INSERT INTO customer_uuids (customer_code, "customerId", "customerProfileId")
           SELECT customer_code, gen_random_uuid(), gen_random_uuid() FROM stg_customer
           WHERE extracted_run_id = $1 AND customer_code BETWEEN $2 AND $3
           ON CONFLICT (customer_code) DO NOTHING`,
          [runId, lo, hi],
        ),
      ),
    );
    return { assigned: halves.reduce((n, r) => n + (r.rowCount ?? 0), 0) };
  }

  /** Cuts the run's staged codes into key ranges of batchSize rows; planned once, then read back. */
  async function planBatches({ runId, batchSize }: { runId: number; batchSize: number }): Promise<{ batchCount: number; staged: number }> {
    await setPhase(runId, 'planning');
    return withTransaction(pools.staging, async (client) => {
      await client.query(`SELECT 1 FROM migration_run WHERE run_id = $1 FOR UPDATE`, [runId]);
      const planned = await client.query(`SELECT count(*)::int AS n FROM migration_batch WHERE run_id = $1`, [runId]);
      if (planned.rows[0].n === 0) {
        await client.query(
          `INSERT INTO migration_batch (run_id, batch_no, lo, hi)
           SELECT $1, (rn - 1) / $2 + 1, min(customer_code), max(customer_code)
           FROM (SELECT customer_code, row_number() OVER (ORDER BY customer_code) AS rn
                 FROM stg_customer WHERE extracted_run_id = $1) numbered
           GROUP BY (rn - 1) / $2`,
          [runId, batchSize],
        );
      }
      const summary = (await client.query(
        `SELECT (SELECT count(*)::int FROM migration_batch WHERE run_id = $1) AS batches,
                (SELECT count(*)::int FROM stg_customer WHERE extracted_run_id = $1) AS staged`,
        [runId],
      )).rows[0];
      await client.query(`UPDATE migration_run SET batch_count = $2, rows_staged = $3, phase = 'loading' WHERE run_id = $1`, [runId, summary.batches, summary.staged]);
      return { batchCount: summary.batches, staged: summary.staged };
    });
  }

  /**
   * Records a batch that failed past its retry policy; the workflow then waits for a person.
   * loadBatch counts its attempts in migration_batch.attempts (across retries); `attempts` is only a
   * floor for attempts that failed before they could count themselves. Answers the recorded count.
   */
  async function markBatchFailed({ runId, batchNo, error, attempts }: { runId: number; batchNo: number; error: string; attempts: number }): Promise<{ attempts: number }> {
    const result = await pools.staging.query(
      `UPDATE migration_batch SET status = 'FAILED', error = $3, attempts = GREATEST(attempts, $4), finished_at = now() WHERE run_id = $1 AND batch_no = $2
       RETURNING attempts`,
      [runId, batchNo, error, attempts],
    );
    const recorded = Number(result.rows[0]?.attempts ?? attempts);
    if (metrics) metrics.batchFailed(await metrics.modeOf(runId, () => readRunMode(pools.staging, runId)));
    log('warn', 'batch failed after its retries', { runId, batchNo, attempts: recorded });
    return { attempts: recorded };
  }

  return { beginRun, finishRun, setPhase, assignUuids, planBatches, markBatchFailed };
}

/** Exposed for activities that want the attempt number in their records. */
export function currentAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}
