import { setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { Decision, Phase, Progress } from '../../contracts';
import { progressQuery, searchAttributeKeys } from '../definitions';
import type { Run, RunState } from './state';

/** What a run shows while it runs: the progress query, the UI's current details, the search attributes. */

/** Rows loaded or rejected so far. */
export function processed(p: Progress): number {
  return p.counts.loaded + p.counts.rejected;
}

/** Brings the derived figures up to date: pending and failed batches, rows/s and ETA. */
export function refreshRates(state: RunState): void {
  const p = state.progress;
  p.batches.failed = state.failed.length;
  p.batches.pending = Math.max(0, p.batches.total - p.batches.done - p.batches.failed - p.batches.running);
  p.failedBatches = state.failed;
  if (p.phase === 'loading' && state.rateBase) {
    const seconds = (Date.now() - state.rateBase.at) / 1000;
    const done = processed(p) - state.rateBase.processed;
    if (seconds > 0 && done > 0) {
      p.rowsPerSecond = Math.round(done / seconds);
      p.etaSeconds = p.rowsPerSecond > 0 ? Math.round(Math.max(0, p.counts.staged - processed(p)) / p.rowsPerSecond) : null;
    }
  } else if (p.phase === 'awaiting-decision') {
    p.etaSeconds = null; // nothing moves until someone decides
  } else if (p.phase === 'reconciling' || p.phase === 'finished') {
    p.etaSeconds = 0;
  }
}

/** The Temporal UI's "current details" of a run: markdown, one paragraph per line that applies. */
export function detailsText(p: Progress): string {
  const c = p.counts;
  const b = p.batches;
  const last = p.decisions[p.decisions.length - 1];
  return [
    `**${p.mode} run ${p.runId ?? '(starting)'}**${p.pipeline ? ` of ${p.pipeline}` : ''}: phase **${p.phase}**${p.status !== 'RUNNING' ? `, **${p.status}**` : ''}`,
    p.phase === 'extracting' ? "extracting: rows read so far are in the extract activity's heartbeat details (Pending Activities) and in `migrate status`" : '',
    `rows: extracted ${c.extracted}, staged ${c.staged}, loaded ${c.loaded}, rejected ${c.rejected}, warned ${c.warned}`,
    `batches: ${b.done}/${b.total} done, ${b.running} running, ${b.failed} failed, ${b.pending} pending`,
    p.rowsPerSecond !== null ? `rate: ${p.rowsPerSecond} rows/s${p.etaSeconds !== null ? `, ETA ${p.etaSeconds} s` : ''}` : '',
    p.failedBatches.length ? `failed batches: ${p.failedBatches.map((f) => `${f.batchNo} (${f.attempts} attempts: ${f.error.slice(0, 200)})`).join('; ')}` : '',
    p.phase === 'awaiting-decision'
      ? `**waiting for a decision** until ${p.decisionDeadline ?? '?'}: update \`retryFailedBatches\` {"batches":[…]} | \`acceptFailures\` | \`abort\` {"reason":"…"} (or the signals retryFailedBatchesSignal / acceptFailuresSignal / abortSignal)`
      : '',
    last
      ? `last decision: ${last.action}${last.batches ? ` ${last.batches.join(', ')}` : ''}${last.reason ? ` (${last.reason})` : ''} via ${last.via} at ${last.at}`
      : '',
    p.note ?? '',
    p.error ? `error: ${p.error}` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
}

export function publish(run: Run): void {
  refreshRates(run.state);
  setCurrentDetails(detailsText(run.progress));
}

/** Moves the run to a phase: its search attribute, the rate base of a loading phase, the details. */
export function enter(run: Run, phase: Phase): void {
  const { state, progress: p } = run;
  if (phase === 'loading') state.rateBase = { at: Date.now(), processed: processed(p) };
  p.phase = phase;
  if (state.settings?.searchAttributes) upsertSearchAttributes([{ key: searchAttributeKeys.phase, value: phase }]);
  publish(run);
}

/** The mode and pipeline the run took, as search attributes (where the cluster has them). */
export function upsertRunAttributes(run: Run): void {
  const p = run.progress;
  if (!run.state.settings?.searchAttributes) return;
  upsertSearchAttributes([{ key: searchAttributeKeys.mode, value: p.mode }, ...(p.pipeline ? [{ key: searchAttributeKeys.pipeline, value: p.pipeline }] : [])]);
}

/** Adds a decision to the run's audit trail, stamped with workflow time. */
export function recordDecision(p: Progress, d: Omit<Decision, 'at'>): void {
  p.decisions.push({ at: new Date(Date.now()).toISOString(), ...d });
}

export function registerProgressQuery(run: Run): void {
  setHandler(progressQuery, () => {
    refreshRates(run.state);
    return run.progress;
  });
}
