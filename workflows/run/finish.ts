import { ApplicationFailure, CancellationScope, ContinueAsNew, isCancellation } from '@temporalio/workflow';
import { FailureType, MigrationResult, Reconciliation, RunStatus } from '../../contracts';
import { bulk, control } from './activities';
import { rebuildKeys } from './keys';
import { enter } from './progress';
import { failureMessage, Run, settingsOf } from './state';

/** How a run ends: reconciled and recorded, or recorded as failed / cancelled / aborted. */

interface FinishDetails {
  error?: string;
  reconciliation?: Reconciliation;
  advanceWatermark?: boolean;
}

/** Records the run's end (and releases its pipeline lock); a run that never began has nothing to record. */
async function finish(run: Run, status: RunStatus, extra: FinishDetails = {}): Promise<void> {
  const { state, progress: p } = run;
  if (p.runId === null) return;
  const { watermarkAfter } = await control.finishRun({
    runId: p.runId,
    status,
    error: extra.error,
    counts: { ...p.counts, batches: p.batches.total, failedBatches: state.failed.length },
    reconciliation: extra.reconciliation,
    advanceWatermark: extra.advanceWatermark ?? false,
  });
  p.watermarkAfter = watermarkAfter;
  p.status = status;
  p.decisionDeadline = null;
  enter(run, 'finished');
}

/** What the workflow returns (a run that never finished counts as FAILED). */
export function result(run: Run): MigrationResult {
  const p = run.progress;
  return {
    runId: p.runId,
    status: p.status === 'RUNNING' ? 'FAILED' : p.status,
    mode: p.mode,
    counts: p.counts,
    batches: p.batches,
    failedBatches: run.state.failed,
    watermarkBefore: p.watermarkBefore,
    watermarkAfter: p.watermarkAfter,
    reconciliation: p.reconciliation,
    note: p.note,
    error: p.error,
    decisions: p.decisions,
  };
}

/** Rebuilds the keys, reconciles the destination with staging and records the outcome. */
export async function reconcileAndFinish(run: Run, runId: number): Promise<MigrationResult> {
  await rebuildKeys(run, runId, true);
  enter(run, 'reconciling');
  const reconciliation = await bulk.reconcile({ runId, concurrency: settingsOf(run).parallelism });
  run.progress.reconciliation = reconciliation;
  const status: RunStatus = run.state.failed.length ? 'COMPLETED_WITH_FAILURES' : reconciliation.ok ? 'COMPLETED' : 'RECONCILIATION_FAILED';
  await finish(run, status, { reconciliation, advanceWatermark: status === 'COMPLETED' });
  return result(run);
}

/**
 * A run that stops early: a continue-as-new passes; otherwise the keys a bulk load dropped are rebuilt
 * and the end recorded (the pipeline lock released) even while the run is being cancelled. An abort
 * is the cutover lead's decision, not a failure: the run returns with status ABORTED.
 */
export async function endOnError(run: Run, err: unknown): Promise<MigrationResult> {
  if (err instanceof ContinueAsNew) throw err;
  const p = run.progress;
  const message = failureMessage(err);
  p.error = message;
  const aborted = err instanceof ApplicationFailure && err.type === FailureType.aborted;
  const status: RunStatus = isCancellation(err) ? 'CANCELLED' : aborted ? 'ABORTED' : 'FAILED';
  if (!(err instanceof ApplicationFailure && err.type === FailureType.runActive)) {
    await CancellationScope.nonCancellable(async () => {
      if (p.runId !== null) {
        p.error = await rebuildKeys(run, p.runId, true).then(
          () => message,
          (rebuild) => `${message}; rebuilding the destination keys failed too: ${failureMessage(rebuild)} (npm run migrate -- repair-constraints ${p.runId})`,
        );
      }
      await finish(run, status, { error: p.error ?? message });
    });
  }
  if (aborted) return result(run);
  throw err;
}
