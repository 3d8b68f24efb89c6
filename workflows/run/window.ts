import { ActivityFailure, ApplicationFailure, continueAsNew, isCancellation, workflowInfo } from '@temporalio/workflow';
import { BatchResult, FailureType, RunSettings } from '../../contracts';
import type { customerMigration } from '../customer-migration';
import { batchActivities, control } from './activities';
import { awaitDecision, stopIfAborted } from './decisions';
import { rebuildKeys } from './keys';
import { enter, publish } from './progress';
import { failureMessage, Run, settingsOf } from './state';

/** A history this long hands over to a fresh run (continue-as-new), far below Temporal's 51,200. */
const HISTORY_HANDOVER = 4_000;

/** One pass of the sliding window: the batches in flight, and why no new one starts (reject limit). */
interface Window {
  readonly running: Set<Promise<void>>;
  readonly batches: ReturnType<typeof batchActivities>;
  stopReason: string | null;
}

function handOverDue(run: Run): boolean {
  return workflowInfo().historyLength > (run.input.historyHandover ?? HISTORY_HANDOVER) || workflowInfo().continueAsNewSuggested;
}

/** Why the run must stop for its rejects, or null. The ratio is judged on at least 1,000 rows (or every row of a smaller run). */
export function rejectLimitHit(
  counts: { staged: number; loaded: number; rejected: number },
  settings: Pick<RunSettings, 'rejectMaxCount' | 'rejectMaxRatio'>,
): string | null {
  const done = counts.loaded + counts.rejected;
  if (settings.rejectMaxCount !== null && counts.rejected > settings.rejectMaxCount)
    return `rejected rows ${counts.rejected} exceed the limit of ${settings.rejectMaxCount}`;
  if (settings.rejectMaxRatio !== null && done > 0 && counts.rejected / done > settings.rejectMaxRatio && done >= Math.min(counts.staged, 1000))
    return `rejected rows are ${((100 * counts.rejected) / done).toFixed(1)}% of ${done} processed, above the limit of ${(100 * settings.rejectMaxRatio).toFixed(1)}%`;
  return null;
}

function applyBatch(run: Run, window: Window, r: BatchResult): void {
  const p = run.progress;
  p.counts.loaded += r.loaded;
  p.counts.rejected += r.rejected;
  p.counts.warned += r.warned;
  p.batches.done++;
  window.stopReason ??= rejectLimitHit(p.counts, settingsOf(run));
}

/** Loads one batch; a batch that fails every attempt is recorded FAILED (only a cancellation throws). */
async function loadOne(run: Run, window: Window, runId: number, batchNo: number): Promise<void> {
  const p = run.progress;
  p.batches.running++;
  publish(run);
  try {
    applyBatch(run, window, await window.batches.loadBatch({ runId, batchNo }));
  } catch (err) {
    if (isCancellation(err)) throw err;
    const error = failureMessage(err);
    // loadBatch counts its attempts in staging; this floor covers attempts that could not count.
    const floor = err instanceof ActivityFailure && err.retryState === 'MAXIMUM_ATTEMPTS_REACHED' ? run.loadAttempts : 1;
    const { attempts } = await control.markBatchFailed({ runId, batchNo, error, attempts: floor });
    run.state.failed.push({ batchNo, error, attempts });
  } finally {
    p.batches.running--;
    publish(run);
  }
}

/** The next batch to load: a retried one first, then the next planned one. */
function nextBatch(run: Run): number | undefined {
  const state = run.state;
  return state.retryQueue.shift() ?? (state.nextBatch <= run.progress.batches.total ? state.nextBatch++ : undefined);
}

/**
 * The sliding window: at most `parallelism` batches in flight, until the batches run out, the reject
 * limit is hit, an abort arrives or the history is due to be handed over. Returns the reject stop reason.
 */
async function slideWindow(run: Run, runId: number): Promise<string | null> {
  const parallelism = settingsOf(run).parallelism;
  const window: Window = { running: new Set(), batches: batchActivities(run.loadAttempts), stopReason: null };
  const running = window.running;
  for (;;) {
    while (running.size < parallelism && !window.stopReason && run.decision !== 'abort' && !handOverDue(run)) {
      const next = nextBatch(run);
      if (next === undefined) break;
      const task: Promise<void> = loadOne(run, window, runId, next).finally(() => running.delete(task));
      running.add(task);
    }
    if (!running.size) return window.stopReason;
    try {
      await Promise.race(running);
    } catch (err) {
      // Only a cancellation gets here (loadOne records every other failure): let every batch in
      // flight finish cancelling before the run ends and releases its lock.
      await Promise.allSettled(running);
      throw err;
    }
  }
}

/**
 * Loads every batch: window after window, each followed (when batches failed) by a wait for a
 * decision; a long history continues as a new run with the same input and the state so far.
 * Returns once nothing is left to load or the failures are accepted.
 */
export async function loadBatches(run: Run, runId: number): Promise<void> {
  const state = run.state;
  for (;;) {
    const stopReason = await slideWindow(run, runId);
    stopIfAborted(run);
    if (stopReason) throw ApplicationFailure.nonRetryable(`reject threshold exceeded: ${stopReason}`, FailureType.rejectThreshold);
    const moreWork = state.retryQueue.length > 0 || state.nextBatch <= run.progress.batches.total;
    if (moreWork) return await continueAsNew<typeof customerMigration>(run.input, state);
    // Keys a bulk load dropped come back before anyone decides (retried batches then upsert).
    await rebuildKeys(run, runId, false);
    if (!state.failed.length) return;
    await awaitDecision(run);
    if (run.decision === 'accept') return;
    enter(run, 'loading');
  }
}
