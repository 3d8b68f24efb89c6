/** One batch of a run: what its load returns, and how a failed one is listed. */

export interface TypeCounts {
  staged: number;
  loaded: number;
  rejected: number;
}

export interface BatchResult {
  batchNo: number;
  staged: number;
  loaded: number;
  rejected: number;
  /** Loaded rows with at least one warning. */
  warned: number;
  warnings: number;
  byType: Record<string, TypeCounts>;
  durationMs: number;
}

export interface FailedBatch {
  batchNo: number;
  error: string;
  /** Load attempts of this batch so far, across retries (migration_batch.attempts). */
  attempts: number;
}
