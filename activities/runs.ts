import { ApplicationFailure } from '@temporalio/common';
import { FailureType, type BeginRunInput, type BeginRunResult, type FinishRunInput, type RunMode, type RunSettings } from '../contracts';
import type { ActivityDeps } from './deps';
import { log } from '../lib/log';
import { withTransaction } from '../db/transaction';
import { fingerprintOf } from './fingerprint';
import { readBranches } from './staged';
import {
  failRunsEndedOutsideWorkflow,
  findRunOfExecution,
  insertRun,
  lockRun,
  lockRunToFinish,
  recordRunFinished,
  recordRunPlanned,
  readRunMode,
  setRunPhase,
} from '../db/staging/runs';
import { insertLockIfFree, lockPipelineLock, releaseLock, setLockRun, takeOverLock } from '../db/staging/locks';
import { setWatermark, watermarkAndSince } from '../db/staging/watermarks';
import { countBatches, countPlan, insertBatchPlan, markBatchFailed as markBatchFailedRow } from '../db/staging/batches';
import { assignIdsInRange, stagedCodeRange } from '../db/staging/customer-ids';

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
    const begun: { run?: { runId: number; mode: RunMode } } = {}; // the run this call inserted (not a retry's answer, not a refusal)
    const result = await withTransaction(pools.staging, async (client): Promise<BeginRunResult> => {
      const existing = await findRunOfExecution(client, input.temporalRunId);
      if (existing) {
        // A retry of this very activity after it committed: answer the same.
        const { runId, pipeline, mode, note, watermarkBefore, extractSince, settings } = existing;
        return { started: true, runId, pipeline, effectiveMode: mode as RunMode, note, watermarkBefore, extractSince, settings: settings as RunSettings };
      }
      const execution = { pipeline, workflowId: input.workflowId, temporalRunId: input.temporalRunId };
      await insertLockIfFree(client, execution);
      const lock = await lockPipelineLock(client, pipeline);
      if (lock.temporalRunId !== input.temporalRunId) {
        // Temporal keeps at most one open execution per workflow id: a lock left under this run's own
        // workflow id (a terminated run restarted with the same --id) belongs to a run that has ended.
        if (lock.workflowId !== input.workflowId && (await lockHolderIsRunning(lock.workflowId))) {
          // Nothing was written (the lock row is the other run's): ending the transaction releases the row lock.
          return {
            started: false,
            reason: `another run of pipeline ${pipeline} is in progress: workflow ${lock.workflowId}`,
            activeWorkflowId: lock.workflowId,
          };
        }
        log('warn', 'taking over the lock of a run that is no longer open', { pipeline, previousWorkflowId: lock.workflowId });
        await failRunsEndedOutsideWorkflow(client, lock.workflowId);
        await takeOverLock(client, execution);
      }
      const settings = settingsFor(input.overrides);
      const watermark = await watermarkAndSince(client, pipeline, settings.lookbackSeconds);
      let effectiveMode = input.mode;
      let note: string | null = null;
      if (input.mode === 'incremental' && !watermark) {
        effectiveMode = 'full';
        note = 'no watermark yet: this incremental run loads every source row, as a full run';
      }
      const extractSince = effectiveMode === 'incremental' ? watermark!.since : null;
      const fingerprint = fingerprintOf(mapping, await readBranches(pools.staging));
      const watermarkBefore = watermark?.watermark ?? null;
      const runId = await insertRun(client, {
        ...execution,
        mode: effectiveMode,
        startedAt: input.startedAt,
        watermarkBefore,
        extractSince,
        settings,
        note,
        fingerprint,
      });
      await setLockRun(client, pipeline, runId);
      begun.run = { runId, mode: effectiveMode };
      return { started: true, runId, pipeline, effectiveMode, note, watermarkBefore, extractSince, settings };
    });
    if (begun.run) log('info', 'run started', { runId: begun.run.runId, pipeline, mode: begun.run.mode, workflowId: input.workflowId });
    return result;
  }

  async function finishRun(input: FinishRunInput): Promise<{ watermarkAfter: string | null }> {
    const result = await withTransaction(pools.staging, async (client) => {
      const run = await lockRunToFinish(client, input.runId);
      if (!run) throw ApplicationFailure.nonRetryable(`run ${input.runId} does not exist`, FailureType.config);
      let watermarkAfter: string | null = run.watermarkBefore;
      // The watermark is the source's clock at the run's snapshot (contract 5.1), never a value read:
      // set as it is, even if lower than before (a source clock set back re-reads rows, loses none).
      if (input.advanceWatermark && run.snapshotAt) {
        watermarkAfter = await setWatermark(client, {
          pipeline: run.pipeline,
          sourceTable: mapping.source.table,
          watermark: run.snapshotAt,
          runId: input.runId,
        });
      }
      await recordRunFinished(client, {
        runId: input.runId,
        status: input.status,
        error: input.error ?? null,
        counts: input.counts ?? null,
        reconciliation: input.reconciliation ?? null,
        watermarkAfter,
      });
      await releaseLock(client, run.pipeline, run.temporalRunId);
      return { watermarkAfter };
    });
    log('info', 'run finished', { runId: input.runId, status: input.status });
    return result;
  }

  async function setPhase(runId: number, phase: string): Promise<void> {
    await setRunPhase(pools.staging, runId, phase);
  }

  /**
   * Gives each newly staged code its two ids, once; existing codes keep theirs forever. Two halves of
   * the key range run at once (one statement is one core; generating the ids is CPU-bound), each its
   * own transaction: a retry only inserts what is still missing.
   */
  async function assignUuids({ runId }: { runId: number }): Promise<{ assigned: number }> {
    await setPhase(runId, 'assigning-ids');
    const range = await stagedCodeRange(pools.staging, runId);
    if (!range) return { assigned: 0 };
    const middle = Math.floor((range.lo + range.hi) / 2);
    const halves = await Promise.all(
      [
        [range.lo, middle],
        [middle + 1, range.hi],
      ].map(([lo, hi]) => assignIdsInRange(pools.staging, runId, lo, hi)),
    );
    return { assigned: halves.reduce((n, assigned) => n + assigned, 0) };
  }

  /** Cuts the run's staged codes into key ranges of batchSize rows; planned once, then read back. */
  async function planBatches({ runId, batchSize }: { runId: number; batchSize: number }): Promise<{ batchCount: number; staged: number }> {
    await setPhase(runId, 'planning');
    return withTransaction(pools.staging, async (client) => {
      await lockRun(client, runId);
      if ((await countBatches(client, runId)) === 0) await insertBatchPlan(client, runId, batchSize);
      const plan = await countPlan(client, runId);
      await recordRunPlanned(client, runId, plan);
      return { batchCount: plan.batches, staged: plan.staged };
    });
  }

  /**
   * Records a batch that failed past its retry policy; the workflow then waits for a person.
   * loadBatch counts its attempts in migration_batch.attempts (across retries); `attempts` is only a
   * floor for attempts that failed before they could count themselves. Answers the recorded count.
   */
  async function markBatchFailed({
    runId,
    batchNo,
    error,
    attempts,
  }: {
    runId: number;
    batchNo: number;
    error: string;
    attempts: number;
  }): Promise<{ attempts: number }> {
    const recorded = Number((await markBatchFailedRow(pools.staging, { runId, batchNo, error, attempts })) ?? attempts);
    if (metrics) metrics.batchFailed(await metrics.modeOf(runId, () => readRunMode(pools.staging, runId)));
    log('warn', 'batch failed after its retries', { runId, batchNo, attempts: recorded });
    return { attempts: recorded };
  }

  return { beginRun, finishRun, setPhase, assignUuids, planBatches, markBatchFailed };
}
