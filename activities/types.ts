/** Inputs and results that cross the workflow/activity boundary: ids, key ranges and counts, never rows. */

export type RunMode = 'full' | 'incremental';

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

/** A snapshot an extraction read the source in: the source's clock when it was taken, and from which key on. */
export interface ExtractSnapshot {
  at: string;
  afterKey: number | null;
}

/** What the extraction recorded with its run (migration_run.extraction). */
export interface ExtractionRecord {
  /** One, unless a retried extraction had to take a new snapshot after the connection holding the first died. */
  snapshots: ExtractSnapshot[];
  rowsRead: number;
  rowsStaged: number;
  /** Incremental runs only: rows read whose staged copy had a newer updated_at (left as staged). */
  keptNewer: number;
  /** The source's own count of the rows to read, in the same snapshot (null with several snapshots). */
  sourceCount: number | null;
}

export interface ExtractResult {
  rowsRead: number;
  rowsStaged: number;
  /** Rows whose source updated_at was older than the staged copy (left as staged; incremental runs only). */
  rowsSkippedOlder: number;
  /** The source's clock at the (first) snapshot: the watermark the run records when it completes. */
  snapshotAt: string | null;
  snapshots: number;
  chunks: number;
  resumedFromCursor: number | null;
}

/** What a run or a batch was mapped with (contract 5.1): documents and reference data, by digest. */
export interface Fingerprint {
  /** SHA-256 of the mapping document as loaded. */
  mappingSha256: string;
  tenantId: string;
  migrationUserId: string;
  migrationUserName: string;
  /** SHA-256 of branch_map (code, id, name lines in code order). */
  branchMapSha256: string;
}

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

export interface ReconciliationCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** Up to 20 example customer codes for a failing check or a listing. */
  examples?: number[];
  count?: number;
}

export interface Reconciliation {
  ok: boolean;
  checkedAt: string;
  byType: Record<string, TypeCounts>;
  checks: ReconciliationCheck[];
  /** Loaded customers whose newer source row was rejected (contract section 5): informational. */
  stale: { count: number; examples: number[] };
  /** Codes in staging and the destination that are gone from the source: informational. */
  deletedInSource: { count: number; examples: number[] };
  /** This run's rows whose updated_at lies after its snapshot (contract 5.1): loaded as any other, listed. */
  futureDated?: { count: number; examples: number[] };
  /** The source clock the run's extraction snapshot was taken at (the watermark it records). */
  snapshotAt?: string | null;
  fingerprint?: Fingerprint | null;
  /**
   * How the value check covered the batches: equal to the digest their load recorded, re-mapped as
   * the sample (every staged row mapped again and compared), or re-mapped because a digest differed.
   */
  valueCheck?: { batches: number; recorded: number; remappedSample: number; remappedOnDifference: number; remapFraction: number };
}

export type RunStatus = 'COMPLETED' | 'COMPLETED_WITH_FAILURES' | 'RECONCILIATION_FAILED' | 'FAILED' | 'CANCELLED' | 'ABORTED' | 'SKIPPED';

export interface FinishRunInput {
  runId: number;
  status: RunStatus;
  error?: string;
  counts?: Record<string, number>;
  reconciliation?: Reconciliation;
  /** Only a run that loaded and reconciled moves the watermark, to its snapshot time. */
  advanceWatermark?: boolean;
}
