/** What a run was mapped with and what its reconciliation found. */
import type { TypeCounts } from './batch';

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
  deletedInSource: { count: number; examples: number[]; via?: 'set digests' | 'item by item' };
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
