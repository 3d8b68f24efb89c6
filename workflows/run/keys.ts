import { ActivityFailure, ApplicationFailure, isCancellation, patched } from '@temporalio/workflow';
import { bulk, rebuildSoon } from './activities';
import { BULK_LOAD_PATCH } from './patches';
import { enter } from './progress';
import { failureMessage, Run } from './state';

/**
 * The keys a bulk load dropped, rebuilt and verified (the activity does nothing for an upsert run).
 * Not `patient`, at the end of a load window: a destination that cannot be reached now (an outage
 * that also failed the batches) does not keep the run from waiting for a decision; the keys stay
 * dropped, retried batches replace their rows, and the rebuild is tried again after them. Patient
 * before the reconciliation and as the run ends: retried until it is done or fails on the data.
 */
export async function rebuildKeys(run: Run, runId: number, patient: boolean): Promise<void> {
  const { state, progress: p } = run;
  if (state.keysRebuilt || state.keysRebuildFailed || !patched(BULK_LOAD_PATCH)) return;
  const phase = p.phase;
  if (p.loadPath?.path === 'bulk') enter(run, 'rebuilding-keys');
  try {
    await (patient ? bulk : rebuildSoon).restoreKeys({ runId });
    state.keysRebuilt = true;
  } catch (err) {
    const onData = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable;
    if (onData || patient || isCancellation(err)) {
      if (onData) state.keysRebuildFailed = failureMessage(err);
      throw err;
    }
    p.note = `the destination keys are not rebuilt yet (${failureMessage(err)}): tried again when the retried batches are done`;
    enter(run, phase);
  }
}
