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
}

export type Phase = 'starting' | 'extracting' | 'assigning-ids' | 'planning' | 'loading' | 'awaiting-decision' | 'reconciling' | 'finished';

export interface FailedBatch {
  batchNo: number;
  error: string;
  attempts: number;
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
  rowsPerSecond: number | null;
  etaSeconds: number | null;
  startedAt: string;
  loadStartedAt: string | null;
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
}

export const progressQuery = defineQuery<Progress>('progress');
/** Re-runs failed batches (all when `batches` is empty); answers with the batches it scheduled. */
export const retryFailedBatchesUpdate = defineUpdate<{ scheduled: number[] }, [{ batches?: number[] }]>('retryFailedBatches');
/** Finishes a run that waits on failed batches as COMPLETED_WITH_FAILURES. */
export const acceptFailuresUpdate = defineUpdate<{ accepted: number[] }, []>('acceptFailures');
/** Ends a run that waits on failed batches as ABORTED. */
export const abortUpdate = defineUpdate<{ aborted: true }, [{ reason?: string }]>('abort');
/** The same two decisions as signals, for tools that can only signal. */
export const acceptFailuresSignal = defineSignal<[]>('acceptFailuresSignal');
export const abortSignal = defineSignal<[{ reason?: string }?]>('abortSignal');

export const WORKFLOW_TYPE = 'customerMigration';

export const searchAttributeKeys = {
  mode: defineSearchAttributeKey('MigrationMode', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('MigrationPhase', SearchAttributeType.KEYWORD),
  pipeline: defineSearchAttributeKey('MigrationPipeline', SearchAttributeType.KEYWORD),
};
