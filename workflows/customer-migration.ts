import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { MigrationActivities } from '../activities';
import type { BatchResult, Reconciliation, RunSettings, RunStatus } from '../activities/types';
import {
  abortSignal,
  abortUpdate,
  acceptFailuresSignal,
  acceptFailuresUpdate,
  Decision,
  FailedBatch,
  MigrationInput,
  MigrationResult,
  Phase,
  Progress,
  progressQuery,
  retryFailedBatchesSignal,
  retryFailedBatchesUpdate,
  searchAttributeKeys,
} from './definitions';

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' } as const;

const control = proxyActivities<MigrationActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { ...retry, maximumAttempts: 10 },
});
const bulk = proxyActivities<MigrationActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '2 minutes',
  retry: { ...retry, maximumAttempts: 10 },
});
/** A key rebuild that may wait for later: three attempts, a few seconds. */
const rebuildSoon = proxyActivities<MigrationActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '2 minutes',
  retry: { ...retry, maximumAttempts: 3 },
});
/** Default attempts of one batch load (input.loadAttempts overrides): 1+2+4+8 s of backoff, ~15 s. */
export const LOAD_ATTEMPTS = 5;
const batchActivities = (attempts: number) =>
  proxyActivities<MigrationActivities>({
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: '30 seconds', // a killed worker's batches are retried elsewhere within 30 s (loadBatch heartbeats every few seconds)
    retry: { ...retry, maximumAttempts: attempts },
    // A cancelled run waits for its in-flight batches to stop before it releases the pipeline lock
    // (their destination commit is fenced by that lock as well: activities/load.ts).
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });

/** A history this long hands over to a fresh run (continue-as-new), far below Temporal's 51,200. */
const HISTORY_HANDOVER = 4_000;

/** Everything the workflow knows; carried across continue-as-new. Ids and counts only. */
export interface RunState {
  progress: Progress;
  settings: RunSettings | null;
  temporalRunId: string;
  extractSince: string | null;
  nextBatch: number;
  retryQueue: number[];
  failed: FailedBatch[];
  /** Where the current loading phase started (time, rows processed): the base of rows/s and ETA. */
  rateBase?: { at: number; processed: number } | null;
  /** The keys a bulk load dropped are rebuilt and verified (or there were none). */
  keysRebuilt?: boolean;
  /** Their rebuild failed on the data (a duplicate key): not tried again by this run. */
  keysRebuildFailed?: string;
}

/** Runs begun before the bulk path existed replay without its two steps. */
const BULK_LOAD_PATCH = 'bulk-load-path';

function freshState(input: MigrationInput): RunState {
  const info = workflowInfo();
  return {
    progress: {
      runId: null,
      pipeline: input.pipeline ?? null,
      mode: input.mode,
      phase: 'starting',
      status: 'RUNNING',
      note: null,
      counts: { extracted: 0, staged: 0, loaded: 0, rejected: 0, warned: 0 },
      batches: { total: 0, done: 0, running: 0, failed: 0, pending: 0 },
      failedBatches: [],
      rowsPerSecond: null,
      etaSeconds: null,
      decisionDeadline: null,
      decisions: [],
      startedAt: info.startTime.toISOString(),
      loadStartedAt: null,
      watermarkBefore: null,
      watermarkAfter: null,
      reconciliation: null,
      error: null,
    },
    settings: null,
    temporalRunId: info.firstExecutionRunId,
    extractSince: null,
    nextBatch: 1,
    retryQueue: [],
    failed: [],
    rateBase: null,
  };
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

/** '30s', '15m', '24h', '2d', '500ms' → milliseconds (null for anything else). */
function durationMs(value: string): number | null {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(value.trim());
  if (!m) return null;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
}

const RUN_ABORTED = 'RunAborted';

/**
 * The input comes from the CLI (checked there), but also from the Temporal UI and schedules: a bad
 * value must fail the run at once with a clear message, not loop (parallelism 0) or break a timer.
 */
function inputProblems(input: MigrationInput): string[] {
  const problems: string[] = [];
  const positive = (name: keyof MigrationInput) => {
    const v = input[name];
    if (v !== undefined && v !== null && !(Number.isInteger(v) && (v as number) >= 1)) problems.push(`${name} must be a whole number of at least 1, not ${JSON.stringify(v)}`);
  };
  const fraction = (name: keyof MigrationInput) => {
    const v = input[name];
    if (v !== undefined && v !== null && !(typeof v === 'number' && v >= 0 && v <= 1)) problems.push(`${name} must be a number from 0 to 1, not ${JSON.stringify(v)}`);
  };
  if (input?.mode !== 'full' && input?.mode !== 'incremental') problems.push(`mode must be "full" or "incremental", not ${JSON.stringify(input?.mode)}`);
  positive('batchSize');
  positive('parallelism');
  positive('loadAttempts');
  if (input.rejectMaxCount !== undefined && input.rejectMaxCount !== null && !(Number.isInteger(input.rejectMaxCount) && input.rejectMaxCount >= 0))
    problems.push(`rejectMaxCount must be a whole number of at least 0, not ${JSON.stringify(input.rejectMaxCount)}`);
  fraction('rejectMaxRatio');
  fraction('reconcileRemapFraction');
  if (input.decisionTimeout !== undefined && input.decisionTimeout !== null && (typeof input.decisionTimeout !== 'string' || durationMs(input.decisionTimeout) === null))
    problems.push(`decisionTimeout must be a duration like "30m", "24h" or "2d", not ${JSON.stringify(input.decisionTimeout)}`);
  return problems;
}

/**
 * One migration run of efz_customer: extract → assign ids → plan → load batches (a sliding window)
 * → [wait for a decision on failed batches] → reconcile → finish. Rows stay in PostgreSQL; this
 * workflow only sees run ids, key-range numbers and counts.
 *
 * Decisions (updates, or signals for tools that can only signal; see docs/cutover-runbook.md):
 * - retry: failed batches go back into the window (while loading or awaiting-decision);
 * - accept-failures: a run awaiting-decision reconciles and ends COMPLETED_WITH_FAILURES;
 * - abort: the run starts nothing new, lets the step in progress end (in-flight batches finish their
 *   transaction), records ABORTED and returns; the watermark stays where it was.
 */
export async function customerMigration(input: MigrationInput, carried?: RunState): Promise<MigrationResult> {
  const problems = inputProblems(input ?? ({} as MigrationInput));
  if (problems.length) throw ApplicationFailure.nonRetryable(`invalid input: ${problems.join('; ')}`, 'ConfigError');
  const state = carried ?? freshState(input);
  const p = state.progress;
  p.decisions ??= [];
  p.decisionDeadline ??= null;
  const loadAttempts = Math.max(1, Math.floor(input.loadAttempts ?? LOAD_ATTEMPTS));
  const batches = batchActivities(loadAttempts);
  let decision: 'accept' | 'abort' | null = null;
  let abortReason = 'aborted by an operator';

  const processed = () => p.counts.loaded + p.counts.rejected;
  const refreshRates = () => {
    p.batches.failed = state.failed.length;
    p.batches.pending = Math.max(0, p.batches.total - p.batches.done - p.batches.failed - p.batches.running);
    p.failedBatches = state.failed;
    if (p.phase === 'loading' && state.rateBase) {
      const seconds = (Date.now() - state.rateBase.at) / 1000;
      const done = processed() - state.rateBase.processed;
      if (seconds > 0 && done > 0) {
        p.rowsPerSecond = Math.round(done / seconds);
        p.etaSeconds = p.rowsPerSecond > 0 ? Math.round(Math.max(0, p.counts.staged - processed()) / p.rowsPerSecond) : null;
      }
    } else if (p.phase === 'awaiting-decision') {
      p.etaSeconds = null; // nothing moves until someone decides
    } else if (p.phase === 'reconciling' || p.phase === 'finished') {
      p.etaSeconds = 0;
    }
  };
  const publish = () => {
    refreshRates();
    const c = p.counts;
    const b = p.batches;
    const last = p.decisions[p.decisions.length - 1];
    setCurrentDetails(
      [
        `**${p.mode} run ${p.runId ?? '(starting)'}**${p.pipeline ? ` of ${p.pipeline}` : ''}: phase **${p.phase}**${p.status !== 'RUNNING' ? `, **${p.status}**` : ''}`,
        p.phase === 'extracting' ? 'extracting: rows read so far are in the extract activity\'s heartbeat details (Pending Activities) and in `migrate status`' : '',
        `rows: extracted ${c.extracted}, staged ${c.staged}, loaded ${c.loaded}, rejected ${c.rejected}, warned ${c.warned}`,
        `batches: ${b.done}/${b.total} done, ${b.running} running, ${b.failed} failed, ${b.pending} pending`,
        p.rowsPerSecond !== null ? `rate: ${p.rowsPerSecond} rows/s${p.etaSeconds !== null ? `, ETA ${p.etaSeconds} s` : ''}` : '',
        p.failedBatches.length
          ? `failed batches: ${p.failedBatches.map((f) => `${f.batchNo} (${f.attempts} attempts: ${f.error.slice(0, 200)})`).join('; ')}`
          : '',
        p.phase === 'awaiting-decision'
          ? `**waiting for a decision** until ${p.decisionDeadline ?? '?'}: update \`retryFailedBatches\` {"batches":[…]} | \`acceptFailures\` | \`abort\` {"reason":"…"} (or the signals retryFailedBatchesSignal / acceptFailuresSignal / abortSignal)`
          : '',
        last ? `last decision: ${last.action}${last.batches ? ` ${last.batches.join(', ')}` : ''}${last.reason ? ` (${last.reason})` : ''} via ${last.via} at ${last.at}` : '',
        p.note ?? '',
        p.error ? `error: ${p.error}` : '',
      ]
        .filter(Boolean)
        .join('\n\n'),
    );
  };
  const upsertPhase = (phase: Phase) => {
    if (state.settings?.searchAttributes) upsertSearchAttributes([{ key: searchAttributeKeys.phase, value: phase }]);
  };
  const enter = (phase: Phase) => {
    if (phase === 'loading') state.rateBase = { at: Date.now(), processed: processed() };
    p.phase = phase;
    upsertPhase(phase);
    publish();
  };
  const record = (d: Omit<Decision, 'at'>) => {
    p.decisions.push({ at: new Date(Date.now()).toISOString(), ...d });
  };

  // --- decisions -------------------------------------------------------------------------------
  const retryRefusal = (requested: number[]): string | null => {
    if (decision !== null) return `the run is already ${decision === 'abort' ? 'being aborted' : 'accepting its failures'}`;
    if (p.phase !== 'loading' && p.phase !== 'awaiting-decision') return `the run is ${p.phase}: batches can be retried only while it loads or waits for a decision`;
    const failed = new Set(state.failed.map((f) => f.batchNo));
    if (!failed.size) return 'this run has no failed batches to retry';
    const unknown = requested.filter((b) => !failed.has(b));
    if (unknown.length) return `batch(es) ${unknown.join(', ')} are not failed; failed: ${[...failed].join(', ')}`;
    return null;
  };
  const scheduleRetry = (requested: number[] | undefined, via: Decision['via']): number[] => {
    const wanted = requested?.length ? [...new Set(requested)] : state.failed.map((f) => f.batchNo);
    state.failed = state.failed.filter((f) => !wanted.includes(f.batchNo));
    state.retryQueue.push(...wanted.filter((b) => !state.retryQueue.includes(b)));
    record({ action: 'retry', via, batches: wanted });
    publish();
    return wanted;
  };
  setHandler(progressQuery, () => {
    refreshRates();
    return p;
  });
  setHandler(retryFailedBatchesUpdate, (args) => ({ scheduled: scheduleRetry(args?.batches, 'update') }), {
    validator: (args: { batches?: number[] }) => {
      const batchList = args?.batches ?? [];
      if (!Array.isArray(batchList) || batchList.some((b) => !Number.isInteger(b))) throw new Error('batches must be a list of batch numbers, e.g. {"batches":[3,7]}');
      const refusal = retryRefusal(batchList);
      if (refusal) throw new Error(refusal);
    },
  });
  setHandler(retryFailedBatchesSignal, (args) => {
    const requested = Array.isArray(args?.batches) ? args.batches.filter((b) => Number.isInteger(b)) : [];
    if (!retryRefusal(requested)) scheduleRetry(requested, 'signal');
  });
  const acceptRefusal = (): string | null => {
    if (p.phase !== 'awaiting-decision' || decision !== null) return `the run is ${p.phase}, not waiting for a decision on failed batches`;
    return null;
  };
  const accept = (via: Decision['via']) => {
    decision = 'accept';
    const accepted = state.failed.map((f) => f.batchNo);
    record({ action: 'accept-failures', via, batches: accepted });
    publish();
    return accepted;
  };
  setHandler(acceptFailuresUpdate, () => ({ accepted: accept('update') }), {
    validator: () => {
      const refusal = acceptRefusal();
      if (refusal) throw new Error(refusal);
    },
  });
  setHandler(acceptFailuresSignal, () => {
    if (!acceptRefusal()) accept('signal');
  });
  const abortRefusal = (): string | null => {
    if (p.phase === 'reconciling' || p.phase === 'finished') return `the run is ${p.phase}: too late to abort`;
    if (decision !== null) return `the run is already ${decision === 'abort' ? 'being aborted' : 'accepting its failures'}`;
    return null;
  };
  const abort = (reason: string | undefined, via: Decision['via']) => {
    decision = 'abort';
    abortReason = reason?.trim() ? `aborted by an operator: ${reason.trim()}` : abortReason;
    record({ action: 'abort', via, reason: reason?.trim() || undefined });
    publish();
  };
  setHandler(abortUpdate, (args) => (abort(args?.reason, 'update'), { aborted: true as const }), {
    validator: (_args: { reason?: string }) => {
      const refusal = abortRefusal();
      if (refusal) throw new Error(refusal);
    },
  });
  setHandler(abortSignal, (args) => {
    if (!abortRefusal()) abort(args?.reason, 'signal');
  });
  /** An abort takes effect between steps: nothing new starts, the step in progress ends cleanly. */
  const stopIfAborted = () => {
    if (decision === 'abort') throw ApplicationFailure.nonRetryable(abortReason, RUN_ABORTED);
  };

  const finish = async (status: RunStatus, extra: { error?: string; reconciliation?: Reconciliation; advanceWatermark?: boolean } = {}) => {
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
    enter('finished');
  };
  /**
   * The keys a bulk load dropped, rebuilt and verified (the activity does nothing for an upsert run).
   * Not `patient`, at the end of a load window: a destination that cannot be reached now (an outage
   * that also failed the batches) does not keep the run from waiting for a decision; the keys stay
   * dropped, retried batches replace their rows, and the rebuild is tried again after them. Patient
   * before the reconciliation and as the run ends: retried until it is done or fails on the data.
   */
  const rebuildKeys = async (runId: number, patient: boolean) => {
    if (state.keysRebuilt || state.keysRebuildFailed || !patched(BULK_LOAD_PATCH)) return;
    const phase = p.phase;
    if (p.loadPath?.path === 'bulk') enter('rebuilding-keys');
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
      enter(phase);
    }
  };
  const result = (): MigrationResult => ({
    runId: p.runId,
    status: p.status === 'RUNNING' ? 'FAILED' : p.status,
    mode: p.mode,
    counts: p.counts,
    batches: p.batches,
    failedBatches: state.failed,
    watermarkBefore: p.watermarkBefore,
    watermarkAfter: p.watermarkAfter,
    reconciliation: p.reconciliation,
    note: p.note,
    error: p.error,
    decisions: p.decisions,
  });

  try {
    if (p.runId === null) {
      const info = workflowInfo();
      const begun = await control.beginRun({
        pipeline: input.pipeline ?? '',
        mode: input.mode,
        workflowId: info.workflowId,
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
          publish();
          return result();
        }
        throw ApplicationFailure.nonRetryable(`refused: ${begun.reason}`, 'RunAlreadyActive');
      }
      p.runId = begun.runId;
      p.pipeline = begun.pipeline ?? p.pipeline;
      p.mode = begun.effectiveMode;
      p.note = begun.note;
      p.watermarkBefore = begun.watermarkBefore;
      state.settings = begun.settings;
      state.extractSince = begun.extractSince;
      if (state.settings.searchAttributes) {
        upsertSearchAttributes([
          { key: searchAttributeKeys.mode, value: p.mode },
          ...(p.pipeline ? [{ key: searchAttributeKeys.pipeline, value: p.pipeline }] : []),
        ]);
      }
      stopIfAborted();

      enter('extracting');
      const extracted = await bulk.extract({ runId: p.runId, since: state.extractSince, chunkSize: state.settings.extractChunkSize });
      p.counts.extracted = extracted.rowsRead;
      stopIfAborted();

      enter('assigning-ids');
      await bulk.assignUuids({ runId: p.runId });
      stopIfAborted();

      enter('planning');
      const plan = await control.planBatches({ runId: p.runId, batchSize: state.settings.batchSize });
      p.counts.staged = plan.staged;
      p.batches.total = plan.batchCount;
      if (patched(BULK_LOAD_PATCH)) p.loadPath = await bulk.prepareLoadPath({ runId: p.runId });
      p.loadStartedAt = new Date(Date.now()).toISOString();
      stopIfAborted();
      enter('loading');
    }
    const runId = p.runId;
    const settings = state.settings!;

    let stopReason: string | null = null;
    const rejectLimitHit = (): string | null => {
      const done = processed();
      if (settings.rejectMaxCount !== null && p.counts.rejected > settings.rejectMaxCount)
        return `rejected rows ${p.counts.rejected} exceed the limit of ${settings.rejectMaxCount}`;
      // The ratio is judged on a sample of at least 1,000 rows (or every row of a smaller run).
      if (settings.rejectMaxRatio !== null && done > 0 && p.counts.rejected / done > settings.rejectMaxRatio && done >= Math.min(p.counts.staged, 1000))
        return `rejected rows are ${((100 * p.counts.rejected) / done).toFixed(1)}% of ${done} processed, above the limit of ${(100 * settings.rejectMaxRatio).toFixed(1)}%`;
      return null;
    };
    const applyBatch = (r: BatchResult) => {
      p.counts.loaded += r.loaded;
      p.counts.rejected += r.rejected;
      p.counts.warned += r.warned;
      p.batches.done++;
      stopReason ??= rejectLimitHit();
    };
    const runOne = async (batchNo: number) => {
      p.batches.running++;
      publish();
      try {
        applyBatch(await batches.loadBatch({ runId, batchNo }));
      } catch (err) {
        if (isCancellation(err)) throw err;
        const error = failureMessage(err);
        // loadBatch counts its attempts in staging; this floor covers attempts that could not count.
        const floor = err instanceof ActivityFailure && err.retryState === 'MAXIMUM_ATTEMPTS_REACHED' ? loadAttempts : 1;
        const { attempts } = await control.markBatchFailed({ runId, batchNo, error, attempts: floor });
        state.failed.push({ batchNo, error, attempts });
      } finally {
        p.batches.running--;
        publish();
      }
    };
    const handOverDue = () => workflowInfo().historyLength > HISTORY_HANDOVER || workflowInfo().continueAsNewSuggested;

    for (;;) {
      // The sliding window: at most `parallelism` batches in flight.
      const running = new Set<Promise<void>>();
      for (;;) {
        while (running.size < settings.parallelism && !stopReason && decision !== 'abort' && !handOverDue()) {
          const next = state.retryQueue.shift() ?? (state.nextBatch <= p.batches.total ? state.nextBatch++ : undefined);
          if (next === undefined) break;
          const task: Promise<void> = runOne(next).finally(() => running.delete(task));
          running.add(task);
        }
        if (!running.size) break;
        try {
          await Promise.race(running);
        } catch (err) {
          // Only a cancellation gets here (runOne records every other failure): let every batch in
          // flight finish cancelling before the run ends and releases its lock.
          await Promise.allSettled(running);
          throw err;
        }
      }
      stopIfAborted();
      if (stopReason) throw ApplicationFailure.nonRetryable(`reject threshold exceeded: ${stopReason}`, 'RejectThresholdExceeded');
      const moreWork = state.retryQueue.length > 0 || state.nextBatch <= p.batches.total;
      if (moreWork) return await continueAsNew<typeof customerMigration>(input, state);
      // Keys a bulk load dropped come back before anyone decides (retried batches then upsert).
      await rebuildKeys(runId, false);
      if (!state.failed.length) break;

      const waitMs = durationMs(settings.decisionTimeout);
      p.decisionDeadline = waitMs === null ? null : new Date(Date.now() + waitMs).toISOString();
      enter('awaiting-decision');
      const decided = await condition(() => decision !== null || state.retryQueue.length > 0, settings.decisionTimeout as `${number}h`);
      p.decisionDeadline = null;
      if (!decided) throw ApplicationFailure.nonRetryable(`no decision on failed batches within ${settings.decisionTimeout}`, 'DecisionTimeout');
      stopIfAborted();
      if (decision === 'accept') break;
      enter('loading');
    }

    await rebuildKeys(runId, true);
    enter('reconciling');
    const reconciliation = await bulk.reconcile({ runId, concurrency: settings.parallelism });
    p.reconciliation = reconciliation;
    const status: RunStatus = state.failed.length ? 'COMPLETED_WITH_FAILURES' : reconciliation.ok ? 'COMPLETED' : 'RECONCILIATION_FAILED';
    await finish(status, { reconciliation, advanceWatermark: status === 'COMPLETED' });
    return result();
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    const message = failureMessage(err);
    p.error = message;
    const aborted = err instanceof ApplicationFailure && err.type === RUN_ABORTED;
    const status: RunStatus = isCancellation(err) ? 'CANCELLED' : aborted ? 'ABORTED' : 'FAILED';
    if (!(err instanceof ApplicationFailure && err.type === 'RunAlreadyActive')) {
      // Rebuild what a bulk load dropped, record the end and release the pipeline lock, even when
      // the run is being cancelled.
      await CancellationScope.nonCancellable(async () => {
        if (p.runId !== null) {
          p.error = await rebuildKeys(p.runId, true).then(
            () => message,
            (rebuild) => `${message}; rebuilding the destination keys failed too: ${failureMessage(rebuild)} (npm run migrate -- repair-constraints ${p.runId})`,
          );
        }
        await finish(status, { error: p.error ?? message });
      });
    }
    // An abort is the cutover lead's decision, not a failure: the run completes with status ABORTED.
    if (aborted) return result();
    throw err;
  }
}
