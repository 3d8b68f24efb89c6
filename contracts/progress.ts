/** What a running migration shows: its phase, counts, failed batches and the decisions taken (the progress query). */
import type { FailedBatch } from './batch';
import type { RunMode, RunStatus } from './run';
import type { Reconciliation } from './reconciliation';

export type Phase = 'starting' | 'extracting' | 'assigning-ids' | 'planning' | 'loading' | 'rebuilding-keys' | 'awaiting-decision' | 'reconciling' | 'finished';

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
