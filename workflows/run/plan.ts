import { ApplicationFailure, patched, workflowInfo } from '@temporalio/workflow';
import { FailureType } from '../../contracts';
import { bulk, control } from './activities';
import { stopIfAborted } from './decisions';
import { BULK_LOAD_PATCH } from './patches';
import { enter, publish, upsertRunAttributes } from './progress';
import type { Run } from './state';

/**
 * A run's first steps, before any batch loads: begin (take the pipeline lock) → extract → assign ids
 * → plan the batches and the load path. A continued execution has done them already.
 */

/** Takes the pipeline lock; false when a scheduled run finds another active and is skipped. */
async function begin(run: Run): Promise<boolean> {
  const { input, state, progress: p } = run;
  const begun = await control.beginRun({
    pipeline: input.pipeline ?? '',
    mode: input.mode,
    workflowId: workflowInfo().workflowId,
    temporalRunId: state.temporalRunId,
    startedAt: p.startedAt,
    overrides: {
      batchSize: input.batchSize,
      parallelism: input.parallelism,
      rejectMaxCount: input.rejectMaxCount,
      rejectMaxRatio: input.rejectMaxRatio,
      decisionTimeout: input.decisionTimeout,
      reconcileRemapFraction: input.reconcileRemapFraction,
    },
  });
  if (!begun.started) {
    if (input.trigger === 'schedule') {
      p.status = 'SKIPPED';
      p.note = `skipped: ${begun.reason}`;
      publish(run);
      return false;
    }
    throw ApplicationFailure.nonRetryable(`refused: ${begun.reason}`, FailureType.runActive);
  }
  p.runId = begun.runId;
  p.pipeline = begun.pipeline ?? p.pipeline;
  p.mode = begun.effectiveMode;
  p.note = begun.note;
  p.watermarkBefore = begun.watermarkBefore;
  state.settings = begun.settings;
  state.extractSince = begun.extractSince;
  upsertRunAttributes(run);
  return true;
}

/** Stages the source rows, gives them their ids and cuts them into batches; ends in the loading phase. */
async function stageAndPlan(run: Run, runId: number): Promise<void> {
  const { state, progress: p } = run;
  const settings = state.settings!;
  enter(run, 'extracting');
  const extracted = await bulk.extract({ runId, since: state.extractSince, chunkSize: settings.extractChunkSize });
  p.counts.extracted = extracted.rowsRead;
  stopIfAborted(run);

  enter(run, 'assigning-ids');
  await bulk.assignUuids({ runId });
  stopIfAborted(run);

  enter(run, 'planning');
  const plan = await control.planBatches({ runId, batchSize: settings.batchSize });
  p.counts.staged = plan.staged;
  p.batches.total = plan.batchCount;
  if (patched(BULK_LOAD_PATCH)) p.loadPath = await bulk.prepareLoadPath({ runId });
  p.loadStartedAt = new Date(Date.now()).toISOString();
  stopIfAborted(run);
  enter(run, 'loading');
}

/** Begins the run and plans its batches; false when a scheduled run was skipped. */
export async function planRun(run: Run): Promise<boolean> {
  if (!(await begin(run))) return false;
  stopIfAborted(run);
  await stageAndPlan(run, run.progress.runId!);
  return true;
}
