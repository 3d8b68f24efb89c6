import { ApplicationFailure } from '@temporalio/common';
import type { PoolClient } from 'pg';
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

/** The pipeline a run asks for, else the worker's. */
function pipelineOf({ config }: ActivityDeps, requested: string): string {
  return requested || config.PIPELINE;
}

/** The run's settings: its overrides, else the worker's config. */
function settingsFor({ config, searchAttributes }: ActivityDeps, overrides: BeginRunInput['overrides']): RunSettings {
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
async function lockHolderIsRunning({ temporal }: ActivityDeps, workflowId: string): Promise<boolean> {
  try {
    const description = await temporal.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING';
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return false;
    throw err;
  }
}

/** The execution a run belongs to: its pipeline and Temporal ids, as the lock and the run row record them. */
interface Execution {
  pipeline: string;
  workflowId: string;
  temporalRunId: string;
}

/** The answer of a run that started. */
type StartedRun = Extract<BeginRunResult, { started: true }>;

/**
 * Takes the pipeline lock for the execution, inside the begin transaction: answers the refusal when
 * another open run holds it, else null (a lock left by a run that has ended is taken over).
 */
async function takePipelineLock(deps: ActivityDeps, client: PoolClient, execution: Execution): Promise<BeginRunResult | null> {
  const { pipeline } = execution;
  await insertLockIfFree(client, execution);
  const lock = await lockPipelineLock(client, pipeline);
  if (lock.temporalRunId === execution.temporalRunId) return null;
  // Temporal keeps at most one open execution per workflow id: a lock left under this run's own
  // workflow id (a terminated run restarted with the same --id) belongs to a run that has ended.
  if (lock.workflowId !== execution.workflowId && (await lockHolderIsRunning(deps, lock.workflowId))) {
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
  return null;
}

/** Inserts the run row under the lock just taken: its effective mode, watermark, settings and fingerprint. */
async function insertNewRun(deps: ActivityDeps, client: PoolClient, execution: Execution, input: BeginRunInput): Promise<StartedRun> {
  const { pipeline } = execution;
  const settings = settingsFor(deps, input.overrides);
  const watermark = await watermarkAndSince(client, pipeline, settings.lookbackSeconds);
  let effectiveMode = input.mode;
  let note: string | null = null;
  if (input.mode === 'incremental' && !watermark) {
    effectiveMode = 'full';
    note = 'no watermark yet: this incremental run loads every source row, as a full run';
  }
  const extractSince = effectiveMode === 'incremental' ? watermark!.since : null;
  const fingerprint = fingerprintOf(deps.mapping, await readBranches(deps.pools.staging));
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
  return { started: true, runId, pipeline, effectiveMode, note, watermarkBefore, extractSince, settings };
}

async function beginRun(deps: ActivityDeps, input: BeginRunInput): Promise<BeginRunResult> {
  const pipeline = pipelineOf(deps, input.pipeline);
  const begun: { run?: { runId: number; mode: RunMode } } = {}; // the run this call inserted (not a retry's answer, not a refusal)
  const result = await withTransaction(deps.pools.staging, async (client): Promise<BeginRunResult> => {
    const existing = await findRunOfExecution(client, input.temporalRunId);
    if (existing) {
      // A retry of this very activity after it committed: answer the same.
      const { runId, pipeline, mode, note, watermarkBefore, extractSince, settings } = existing;
      return { started: true, runId, pipeline, effectiveMode: mode as RunMode, note, watermarkBefore, extractSince, settings: settings as RunSettings };
    }
    const execution: Execution = { pipeline, workflowId: input.workflowId, temporalRunId: input.temporalRunId };
    const refused = await takePipelineLock(deps, client, execution);
    if (refused) return refused;
    const started = await insertNewRun(deps, client, execution, input);
    begun.run = { runId: started.runId, mode: started.effectiveMode };
    return started;
  });
  if (begun.run) log('info', 'run started', { runId: begun.run.runId, pipeline, mode: begun.run.mode, workflowId: input.workflowId });
  return result;
}

async function finishRun({ pools, mapping }: ActivityDeps, input: FinishRunInput): Promise<{ watermarkAfter: string | null }> {
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

/**
 * Gives each newly staged code its two ids, once; existing codes keep theirs forever. Two halves of
 * the key range run at once (one statement is one core; generating the ids is CPU-bound), each its
 * own transaction: a retry only inserts what is still missing.
 */
async function assignUuids(deps: ActivityDeps, { runId }: { runId: number }): Promise<{ assigned: number }> {
  const { pools } = deps;
  await setRunPhase(deps.pools.staging, runId, 'assigning-ids');
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
async function planBatches(deps: ActivityDeps, { runId, batchSize }: { runId: number; batchSize: number }): Promise<{ batchCount: number; staged: number }> {
  await setRunPhase(deps.pools.staging, runId, 'planning');
  return withTransaction(deps.pools.staging, async (client) => {
    await lockRun(client, runId);
    if ((await countBatches(client, runId)) === 0) await insertBatchPlan(client, runId, batchSize);
    const plan = await countPlan(client, runId);
    await recordRunPlanned(client, runId, plan);
    return { batchCount: plan.batches, staged: plan.staged };
  });
}

/** What the workflow reports of a batch that failed past its retry policy. */
interface FailedBatch {
  runId: number;
  batchNo: number;
  error: string;
  attempts: number;
}

/**
 * Records a batch that failed past its retry policy; the workflow then waits for a person.
 * loadBatch counts its attempts in migration_batch.attempts (across retries); `attempts` is only a
 * floor for attempts that failed before they could count themselves. Answers the recorded count.
 */
async function markBatchFailed({ pools, metrics }: ActivityDeps, { runId, batchNo, error, attempts }: FailedBatch): Promise<{ attempts: number }> {
  const recorded = Number((await markBatchFailedRow(pools.staging, { runId, batchNo, error, attempts })) ?? attempts);
  if (metrics) metrics.batchFailed(await metrics.modeOf(runId, () => readRunMode(pools.staging, runId)));
  log('warn', 'batch failed after its retries', { runId, batchNo, attempts: recorded });
  return { attempts: recorded };
}

/** Run bookkeeping in the staging control tables: the pipeline lock, the run row, the watermark. */
export function createRunActivities(deps: ActivityDeps) {
  return {
    beginRun: (input: BeginRunInput) => beginRun(deps, input),
    finishRun: (input: FinishRunInput) => finishRun(deps, input),
    assignUuids: (input: { runId: number }) => assignUuids(deps, input),
    planBatches: (input: { runId: number; batchSize: number }) => planBatches(deps, input),
    markBatchFailed: (input: FailedBatch) => markBatchFailed(deps, input),
  };
}
