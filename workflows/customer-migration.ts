import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
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
  FailedBatch,
  MigrationInput,
  MigrationResult,
  Phase,
  Progress,
  progressQuery,
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
const LOAD_ATTEMPTS = 5;
const batches = proxyActivities<MigrationActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry: { ...retry, maximumAttempts: LOAD_ATTEMPTS },
});

/** A history this long hands over to a fresh run (continue-as-new), far below Temporal's 51,200. */
const HISTORY_HANDOVER = 4_000;

/** Everything the workflow knows; carried across continue-as-new. Ids and counts only. */
export interface RunState {
  progress: Progress;
  settings: RunSettings | null;
  temporalRunId: string;
  extractSince: string | null;
  maxUpdatedAt: string | null;
  nextBatch: number;
  retryQueue: number[];
  failed: FailedBatch[];
}

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
    maxUpdatedAt: null,
    nextBatch: 1,
    retryQueue: [],
    failed: [],
  };
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * One migration run of efz_customer: extract → assign ids → plan → load batches (a sliding window)
 * → [wait for a decision on failed batches] → reconcile → finish. Rows stay in PostgreSQL; this
 * workflow only sees run ids, key-range numbers and counts.
 */
export async function customerMigration(input: MigrationInput, carried?: RunState): Promise<MigrationResult> {
  const state = carried ?? freshState(input);
  const p = state.progress;
  let decision: 'accept' | 'abort' | null = null;
  let abortReason = 'aborted by an operator';

  const refreshRates = () => {
    p.batches.failed = state.failed.length;
    p.batches.pending = Math.max(0, p.batches.total - p.batches.done - p.batches.failed - p.batches.running);
    p.failedBatches = state.failed;
    if (p.loadStartedAt) {
      const seconds = (Date.now() - Date.parse(p.loadStartedAt)) / 1000;
      const processed = p.counts.loaded + p.counts.rejected;
      p.rowsPerSecond = seconds > 0 ? Math.round(processed / seconds) : null;
      p.etaSeconds = p.rowsPerSecond ? Math.round(Math.max(0, p.counts.staged - processed) / p.rowsPerSecond) : null;
    }
  };
  const publish = () => {
    refreshRates();
    const c = p.counts;
    const b = p.batches;
    setCurrentDetails(
      [
        `**${p.mode} run ${p.runId ?? '(starting)'}**: phase **${p.phase}**`,
        `rows: extracted ${c.extracted}, staged ${c.staged}, loaded ${c.loaded}, rejected ${c.rejected}, warned ${c.warned}`,
        `batches: ${b.done}/${b.total} done, ${b.running} running, ${b.failed} failed`,
        p.rowsPerSecond !== null ? `rate: ${p.rowsPerSecond} rows/s, ETA ${p.etaSeconds ?? '?'} s` : '',
        p.failedBatches.length ? `failed batches: ${p.failedBatches.map((f) => f.batchNo).join(', ')} (use retry, accept-failures or abort)` : '',
        p.note ?? '',
      ]
        .filter(Boolean)
        .join('\n\n'),
    );
  };
  const enter = (phase: Phase) => {
    p.phase = phase;
    if (state.settings?.searchAttributes) upsertSearchAttributes([{ key: searchAttributeKeys.phase, value: phase }]);
    publish();
  };

  setHandler(progressQuery, () => {
    refreshRates();
    return p;
  });
  setHandler(
    retryFailedBatchesUpdate,
    (args) => {
      const wanted = args?.batches?.length ? args.batches : state.failed.map((f) => f.batchNo);
      state.failed = state.failed.filter((f) => !wanted.includes(f.batchNo));
      state.retryQueue.push(...wanted);
      publish();
      return { scheduled: wanted };
    },
    {
      validator: (args: { batches?: number[] }) => {
        const failed = new Set(state.failed.map((f) => f.batchNo));
        if (!failed.size) throw new Error('this run has no failed batches to retry');
        const unknown = (args?.batches ?? []).filter((b: number) => !failed.has(b));
        if (unknown.length) throw new Error(`batch(es) ${unknown.join(', ')} are not failed; failed: ${[...failed].join(', ')}`);
      },
    },
  );
  const decide = (what: 'accept' | 'abort') => () => {
    if (p.phase !== 'awaiting-decision' && what === 'accept') throw new Error(`the run is ${p.phase}, not waiting for a decision on failed batches`);
  };
  setHandler(acceptFailuresUpdate, () => ((decision = 'accept'), { accepted: state.failed.map((f) => f.batchNo) }), { validator: decide('accept') });
  setHandler(abortUpdate, (args) => ((decision = 'abort'), (abortReason = args?.reason ?? abortReason), { aborted: true as const }));
  setHandler(acceptFailuresSignal, () => {
    if (p.phase === 'awaiting-decision') decision = 'accept';
  });
  setHandler(abortSignal, (args) => {
    decision = 'abort';
    abortReason = args?.reason ?? abortReason;
  });

  const finish = async (status: RunStatus, extra: { error?: string; reconciliation?: Reconciliation; watermarkTo?: string | null } = {}) => {
    if (p.runId === null) return;
    const { watermarkAfter } = await control.finishRun({
      runId: p.runId,
      status,
      error: extra.error,
      counts: { ...p.counts, batches: p.batches.total, failedBatches: state.failed.length },
      reconciliation: extra.reconciliation,
      advanceWatermarkTo: extra.watermarkTo ?? null,
    });
    p.watermarkAfter = watermarkAfter;
    p.status = status;
    enter('finished');
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
      p.mode = begun.effectiveMode;
      p.note = begun.note;
      p.watermarkBefore = begun.watermarkBefore;
      state.settings = begun.settings;
      state.extractSince = begun.extractSince;
      if (state.settings.searchAttributes) upsertSearchAttributes([{ key: searchAttributeKeys.mode, value: p.mode }]);

      enter('extracting');
      const extracted = await bulk.extract({ runId: p.runId, since: state.extractSince, chunkSize: state.settings.extractChunkSize });
      p.counts.extracted = extracted.rowsRead;
      state.maxUpdatedAt = extracted.maxUpdatedAt;

      enter('assigning-ids');
      await bulk.assignUuids({ runId: p.runId });

      enter('planning');
      const plan = await control.planBatches({ runId: p.runId, batchSize: state.settings.batchSize });
      p.counts.staged = plan.staged;
      p.batches.total = plan.batchCount;
      p.loadStartedAt = new Date(Date.now()).toISOString();
      enter('loading');
    }
    const runId = p.runId;
    const settings = state.settings!;

    let stopReason: string | null = null;
    const rejectLimitHit = (): string | null => {
      const processed = p.counts.loaded + p.counts.rejected;
      if (settings.rejectMaxCount !== null && p.counts.rejected > settings.rejectMaxCount)
        return `rejected rows ${p.counts.rejected} exceed the limit of ${settings.rejectMaxCount}`;
      if (settings.rejectMaxRatio !== null && processed > 0 && p.counts.rejected / processed > settings.rejectMaxRatio && processed >= Math.min(p.counts.staged, 1000))
        return `rejected rows are ${((100 * p.counts.rejected) / processed).toFixed(1)}% of ${processed} processed, above the limit of ${(100 * settings.rejectMaxRatio).toFixed(1)}%`;
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
      try {
        applyBatch(await batches.loadBatch({ runId, batchNo }));
      } catch (err) {
        if (isCancellation(err)) throw err;
        const failure: FailedBatch = { batchNo, error: failureMessage(err), attempts: LOAD_ATTEMPTS };
        state.failed.push(failure);
        await control.markBatchFailed({ runId, ...failure });
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
        while (running.size < settings.parallelism && !stopReason && !handOverDue()) {
          const next = state.retryQueue.shift() ?? (state.nextBatch <= p.batches.total ? state.nextBatch++ : undefined);
          if (next === undefined) break;
          const task: Promise<void> = runOne(next).finally(() => running.delete(task));
          running.add(task);
        }
        if (!running.size) break;
        await Promise.race(running);
      }
      if (stopReason) throw ApplicationFailure.nonRetryable(`reject threshold exceeded: ${stopReason}`, 'RejectThresholdExceeded');
      const moreWork = state.retryQueue.length > 0 || state.nextBatch <= p.batches.total;
      if (moreWork) return await continueAsNew<typeof customerMigration>(input, state);
      if (!state.failed.length) break;

      enter('awaiting-decision');
      decision = null;
      const decided = await condition(() => decision !== null || state.retryQueue.length > 0, settings.decisionTimeout as `${number}h`);
      if (!decided) throw ApplicationFailure.nonRetryable(`no decision on failed batches within ${settings.decisionTimeout}`, 'DecisionTimeout');
      if (decision === 'abort') throw ApplicationFailure.nonRetryable(abortReason, 'RunAborted');
      if (decision === 'accept') break;
      enter('loading');
    }

    enter('reconciling');
    const reconciliation = await bulk.reconcile({ runId, concurrency: settings.parallelism });
    p.reconciliation = reconciliation;
    const status: RunStatus = state.failed.length ? 'COMPLETED_WITH_FAILURES' : reconciliation.ok ? 'COMPLETED' : 'RECONCILIATION_FAILED';
    await finish(status, { reconciliation, watermarkTo: status === 'COMPLETED' ? state.maxUpdatedAt : null });
    return result();
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    const message = failureMessage(err);
    p.error = message;
    const status: RunStatus = isCancellation(err)
      ? 'CANCELLED'
      : err instanceof ApplicationFailure && err.type === 'RunAborted'
        ? 'ABORTED'
        : 'FAILED';
    if (!(err instanceof ApplicationFailure && err.type === 'RunAlreadyActive')) {
      // Record the end and release the pipeline lock even when the run is being cancelled.
      await CancellationScope.nonCancellable(() => finish(status, { error: message }));
    }
    throw err;
  }
}
