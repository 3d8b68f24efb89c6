import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Progress } from '../contracts';

/**
 * The workflow's interface: its query, updates and signals, its type name and search attributes.
 * The types it takes and returns live in contracts/ (shared with the activities and the CLI) and are
 * re-exported here for the callers that hold a workflow handle.
 */
export type { Decision, FailedBatch, MigrationInput, MigrationResult, Phase, Progress } from '../contracts';

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
