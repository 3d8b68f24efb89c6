import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import { abortSignal, abortUpdate, acceptFailuresSignal, acceptFailuresUpdate, retryFailedBatchesSignal, retryFailedBatchesUpdate } from '../definitions';
import { Decision, durationMs, FailureType } from '../../contracts';
import { enter, publish, recordDecision } from './progress';
import { Run, settingsOf } from './state';

/**
 * A cutover lead's decisions on failed batches (updates, or signals for tools that can only signal):
 * - retry: failed batches go back into the window (while loading or awaiting-decision);
 * - accept-failures: a run awaiting-decision reconciles and ends COMPLETED_WITH_FAILURES;
 * - abort: the run starts nothing new, lets the step in progress end (in-flight batches finish their
 *   transaction), records ABORTED and returns; the watermark stays where it was.
 * An update that does not apply is refused by its validator; a signal that does not apply is ignored.
 */

type Via = Decision['via'];

function alreadyDecided(run: Run): string {
  return `the run is already ${run.decision === 'abort' ? 'being aborted' : 'accepting its failures'}`;
}

function retryRefusal(run: Run, requested: number[]): string | null {
  const { state, progress: p } = run;
  if (run.decision !== null) return alreadyDecided(run);
  if (p.phase !== 'loading' && p.phase !== 'awaiting-decision')
    return `the run is ${p.phase}: batches can be retried only while it loads or waits for a decision`;
  const failed = new Set(state.failed.map((f) => f.batchNo));
  if (!failed.size) return 'this run has no failed batches to retry';
  const unknown = requested.filter((b) => !failed.has(b));
  if (unknown.length) return `batch(es) ${unknown.join(', ')} are not failed; failed: ${[...failed].join(', ')}`;
  return null;
}

/** Puts failed batches (all when none are named) back into the window. */
function scheduleRetry(run: Run, requested: number[] | undefined, via: Via): number[] {
  const state = run.state;
  const wanted = requested?.length ? [...new Set(requested)] : state.failed.map((f) => f.batchNo);
  state.failed = state.failed.filter((f) => !wanted.includes(f.batchNo));
  state.retryQueue.push(...wanted.filter((b) => !state.retryQueue.includes(b)));
  recordDecision(run.progress, { action: 'retry', via, batches: wanted });
  publish(run);
  return wanted;
}

function acceptRefusal(run: Run): string | null {
  const p = run.progress;
  if (p.phase !== 'awaiting-decision' || run.decision !== null) return `the run is ${p.phase}, not waiting for a decision on failed batches`;
  return null;
}

function accept(run: Run, via: Via): number[] {
  run.decision = 'accept';
  const accepted = run.state.failed.map((f) => f.batchNo);
  recordDecision(run.progress, { action: 'accept-failures', via, batches: accepted });
  publish(run);
  return accepted;
}

function abortRefusal(run: Run): string | null {
  const p = run.progress;
  if (p.phase === 'reconciling' || p.phase === 'finished') return `the run is ${p.phase}: too late to abort`;
  if (run.decision !== null) return alreadyDecided(run);
  return null;
}

function abort(run: Run, reason: string | undefined, via: Via): void {
  run.decision = 'abort';
  run.abortReason = reason?.trim() ? `aborted by an operator: ${reason.trim()}` : run.abortReason;
  recordDecision(run.progress, { action: 'abort', via, reason: reason?.trim() || undefined });
  publish(run);
}

/** A validator refuses an update by throwing: the caller gets the reason, the history stays clean. */
function refuseWith(refusal: string | null): void {
  if (refusal) throw new Error(refusal);
}

export function registerDecisionHandlers(run: Run): void {
  setHandler(retryFailedBatchesUpdate, (args) => ({ scheduled: scheduleRetry(run, args?.batches, 'update') }), {
    validator: (args: { batches?: number[] }) => {
      const batchList = args?.batches ?? [];
      if (!Array.isArray(batchList) || batchList.some((b) => !Number.isInteger(b)))
        throw new Error('batches must be a list of batch numbers, e.g. {"batches":[3,7]}');
      refuseWith(retryRefusal(run, batchList));
    },
  });
  setHandler(retryFailedBatchesSignal, (args) => {
    const requested = Array.isArray(args?.batches) ? args.batches.filter((b) => Number.isInteger(b)) : [];
    if (!retryRefusal(run, requested)) scheduleRetry(run, requested, 'signal');
  });
  setHandler(acceptFailuresUpdate, () => ({ accepted: accept(run, 'update') }), {
    validator: () => refuseWith(acceptRefusal(run)),
  });
  setHandler(acceptFailuresSignal, () => {
    if (!acceptRefusal(run)) accept(run, 'signal');
  });
  setHandler(abortUpdate, (args) => (abort(run, args?.reason, 'update'), { aborted: true as const }), {
    validator: (_args: { reason?: string }) => refuseWith(abortRefusal(run)),
  });
  setHandler(abortSignal, (args) => {
    if (!abortRefusal(run)) abort(run, args?.reason, 'signal');
  });
}

/** An abort takes effect between steps: nothing new starts, the step in progress ends cleanly. */
export function stopIfAborted(run: Run): void {
  if (run.decision === 'abort') throw ApplicationFailure.nonRetryable(run.abortReason, FailureType.aborted);
}

/** Waits (up to the decision timeout) for a retry, accept-failures or abort of the failed batches. */
export async function awaitDecision(run: Run): Promise<void> {
  const { state, progress: p } = run;
  const settings = settingsOf(run);
  const waitMs = durationMs(settings.decisionTimeout);
  p.decisionDeadline = waitMs === null ? null : new Date(Date.now() + waitMs).toISOString();
  enter(run, 'awaiting-decision');
  const decided = await condition(() => run.decision !== null || state.retryQueue.length > 0, settings.decisionTimeout as `${number}h`);
  p.decisionDeadline = null;
  if (!decided) throw ApplicationFailure.nonRetryable(`no decision on failed batches within ${settings.decisionTimeout}`, FailureType.decisionTimeout);
  stopIfAborted(run);
}
