import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Reconciliation, RunMode, RunStatus } from '../activities/types';

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
}

export type Phase = 'starting' | 'extracting' | 'assigning-ids' | 'planning' | 'loading' | 'rebuilding-keys' | 'awaiting-decision' | 'reconciling' | 'finished';

export interface FailedBatch {
  batchNo: number;
  error: string;
  /** Load attempts of this batch so far, across retries (migration_batch.attempts). */
  attempts: number;
}

/** A cutover lead's decision, as the workflow received it: the run's audit trail of decisions. */
export interface Decision {
  at: string;
  action: 'retry' | 'accept-failures' | 'abort';
  via: 'update' | 'signal';
  batches?: number[];
  reason?: string;
}

export interface Progress {
  runId: number | null;
  pipeline: string | null;
  mode: RunMode;
  phase: Phase;
  status: RunStatus | 'RUNNING';
  note: string | null;
  counts: { extracted: number; staged: number; loaded: number; rejected: number; warned: number };
  batches: { total: number; done: number; running: number; failed: number; pending: number };
  failedBatches: FailedBatch[];
  /** Rows loaded or rejected per second, over the current loading phase (frozen outside it). */
  rowsPerSecond: number | null;
  etaSeconds: number | null;
  /** While awaiting-decision: when the wait ends (the run then fails with DecisionTimeout). */
  decisionDeadline: string | null;
  decisions: Decision[];
  startedAt: string;
  loadStartedAt: string | null;
  /** Which load path the run took and why (bulk: keys dropped and rebuilt at the end; upsert). */
  loadPath?: { path: 'bulk' | 'upsert'; reason: string } | null;
  watermarkBefore: string | null;
  watermarkAfter: string | null;
  reconciliation: Reconciliation | null;
  error: string | null;
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

export const progressQuery = defineQuery<Progress>('progress');
/** Re-runs failed batches (all when `batches` is empty); answers with the batches it scheduled. */
export const retryFailedBatchesUpdate = defineUpdate<{ scheduled: number[] }, [{ batches?: number[] }]>('retryFailedBatches');
/** Finishes a run that waits on failed batches as COMPLETED_WITH_FAILURES. */
export const acceptFailuresUpdate = defineUpdate<{ accepted: number[] }, []>('acceptFailures');
/** Ends a run that waits on failed batches as ABORTED. */
export const abortUpdate = defineUpdate<{ aborted: true }, [{ reason?: string }]>('abort');
/**
 * The same decisions as signals, for tools that can only signal (the Temporal UI's "Send a Signal").
 * A signal cannot answer: one that does not apply (no failed batches, not waiting) is ignored, and
 * the progress query / the UI's current details show what was done.
 */
export const retryFailedBatchesSignal = defineSignal<[{ batches?: number[] }?]>('retryFailedBatchesSignal');
export const acceptFailuresSignal = defineSignal<[]>('acceptFailuresSignal');
export const abortSignal = defineSignal<[{ reason?: string }?]>('abortSignal');

export const WORKFLOW_TYPE = 'customerMigration';

export const searchAttributeKeys = {
  mode: defineSearchAttributeKey('MigrationMode', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('MigrationPhase', SearchAttributeType.KEYWORD),
  pipeline: defineSearchAttributeKey('MigrationPipeline', SearchAttributeType.KEYWORD),
};
