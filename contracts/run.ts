/** A run of the migration: what starts it, what it is set to, how it begins and ends. Shared by the workflow, the activities and the CLI. */
import type { Decision, Progress } from './progress';
import type { FailedBatch } from './batch';
import type { Reconciliation } from './reconciliation';

export type RunMode = 'full' | 'incremental';

export type RunStatus = 'COMPLETED' | 'COMPLETED_WITH_FAILURES' | 'RECONCILIATION_FAILED' | 'FAILED' | 'CANCELLED' | 'ABORTED' | 'SKIPPED';

export interface RunSettings {
  batchSize: number;
  parallelism: number;
  extractChunkSize: number;
  lookbackSeconds: number;
  rejectMaxCount: number | null;
  rejectMaxRatio: number | null;
  decisionTimeout: string;
  /** Share of batches the reconciliation re-maps in full; the others are checked against their load's digest. */
  reconcileRemapFraction: number;
  /** Whether the cluster has the MigrationMode / MigrationPhase / MigrationPipeline search attributes. */
  searchAttributes: boolean;
}

export interface BeginRunInput {
  pipeline: string;
  mode: RunMode;
  workflowId: string;
  /** The first execution's run id: one migration run across continue-as-new. */
  temporalRunId: string;
  /** The workflow's start time, ISO: fixes the run date for the mapping's "future" rules. */
  startedAt: string;
  overrides: Partial<Pick<RunSettings, 'batchSize' | 'parallelism' | 'rejectMaxCount' | 'rejectMaxRatio' | 'decisionTimeout' | 'reconcileRemapFraction'>>;
}

export type BeginRunResult =
  | {
      started: true;
      runId: number;
      /** The pipeline the run holds the lock of (the worker's PIPELINE when the input named none). */
      pipeline: string;
      /** incremental without a watermark runs as full. */
      effectiveMode: RunMode;
      note: string | null;
      watermarkBefore: string | null;
      extractSince: string | null;
      settings: RunSettings;
    }
  | { started: false; reason: string; activeWorkflowId: string };

export interface FinishRunInput {
  runId: number;
  status: RunStatus;
  error?: string;
  counts?: Record<string, number>;
  reconciliation?: Reconciliation;
  /** Only a run that loaded and reconciled moves the watermark, to its snapshot time. */
  advanceWatermark?: boolean;
}

/** What an operator (CLI, Temporal UI, Schedule) passes to start a run. No customer data, ever. */
export interface MigrationInput {
  mode: RunMode;
  /** Defaults to the worker's PIPELINE setting. */
  pipeline?: string;
  /** A scheduled run that finds another run active is skipped instead of failing. */
  trigger?: 'cli' | 'ui' | 'schedule';
  batchSize?: number;
  parallelism?: number;
  rejectMaxCount?: number;
  rejectMaxRatio?: number;
  /** How long a run with failed batches waits for retry / accept-failures / abort, e.g. '24h'. */
  decisionTimeout?: string;
  /**
   * Share of batches the reconciliation maps again row by row (default RECONCILE_REMAP_FRACTION,
   * 0.05; 1 re-maps every batch). Every other batch is checked against the digest its load recorded.
   */
  reconcileRemapFraction?: number;
  /**
   * Attempts of one batch load before the batch is recorded FAILED (default 5, backoff 1 s doubling
   * to 30 s: a batch gives up after about 15 s). Tests use 2–3 to fail fast.
   */
  loadAttempts?: number;
  /**
   * History events after which the run continues as a new execution with its state so far (default
   * 4,000, far below Temporal's limit of 51,200). Tests lower it to drive the handover.
   */
  historyHandover?: number;
}

export interface MigrationResult {
  runId: number | null;
  status: RunStatus;
  mode: RunMode;
  counts: Progress['counts'];
  batches: Progress['batches'];
  failedBatches: FailedBatch[];
  watermarkBefore: string | null;
  watermarkAfter: string | null;
  reconciliation: Reconciliation | null;
  note: string | null;
  /** Why the run did not complete (an ABORTED run's reason). */
  error: string | null;
  decisions: Decision[];
}
