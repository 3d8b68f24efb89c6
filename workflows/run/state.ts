import { ActivityFailure, workflowInfo } from '@temporalio/workflow';
import type { FailedBatch, MigrationInput, Progress, RunSettings } from '../../contracts';
import { LOAD_ATTEMPTS } from './activities';

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

/**
 * One execution of the workflow: its input, the state it carries across continue-as-new, and what
 * lives only as long as this execution (an operator's accept / abort, which ends the run anyway).
 */
export interface Run {
  readonly input: MigrationInput;
  readonly state: RunState;
  /** state.progress: what the progress query answers. */
  readonly progress: Progress;
  /** Attempts of one batch load before the batch is recorded FAILED. */
  readonly loadAttempts: number;
  decision: 'accept' | 'abort' | null;
  abortReason: string;
}

export function freshState(input: MigrationInput): RunState {
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

/** This execution's run: a fresh state, or the one a previous execution handed over. */
export function startExecution(input: MigrationInput, carried?: RunState): Run {
  const state = carried ?? freshState(input);
  state.progress.decisions ??= [];
  state.progress.decisionDeadline ??= null;
  return {
    input,
    state,
    progress: state.progress,
    loadAttempts: Math.max(1, Math.floor(input.loadAttempts ?? LOAD_ATTEMPTS)),
    decision: null,
    abortReason: 'aborted by an operator',
  };
}

/** The run's settings, known once it has begun (a carried state always has them). */
export function settingsOf(run: Run): RunSettings {
  return run.state.settings!;
}

export function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
