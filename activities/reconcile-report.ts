import type { RowDifference } from '../db/destination/value-check';
import type { ExtractionRecord, Fingerprint, Reconciliation, ReconciliationCheck, TypeCounts } from '../contracts';

/**
 * The reconciliation's report from what its checks found: pure, so what makes a run pass or fail
 * (contract section 5) is tested without a database (test/unit/reconcile-report.test.ts).
 */

/** Example customer codes kept per finding. */
export const EXAMPLES = 20;

/** Collects a count and the first few customer codes of something worth showing the operator. */
export class Findings {
  count = 0;
  /** How a whole-table check proved its count: set digests that agree (db/set-digest.ts), or item by item. */
  via: 'set digests' | 'item by item' = 'item by item';
  readonly examples: number[] = [];
  add(code: number): void {
    this.count++;
    if (this.examples.length < EXAMPLES) this.examples.push(code);
  }
  /** Adds another collection's count and as many of its examples as there is room for. */
  merge(from: Findings): void {
    this.count += from.count;
    for (const code of from.examples) if (this.examples.length < EXAMPLES) this.examples.push(code);
  }
}

/** What the value check found in one batch. */
export interface BatchCheck {
  byType: Record<string, TypeCounts>;
  missing: Findings;
  wrongIds: Findings;
  mismatched: Findings;
  stale: Findings;
  mismatchedColumns: Set<string>;
}

export function emptyBatchCheck(byType: Record<string, TypeCounts>): BatchCheck {
  return { byType, missing: new Findings(), wrongIds: new Findings(), mismatched: new Findings(), stale: new Findings(), mismatchedColumns: new Set() };
}

export function addCounts(into: Record<string, TypeCounts>, from: Record<string, TypeCounts>): void {
  for (const [type, c] of Object.entries(from)) {
    const t = (into[type] ??= { staged: 0, loaded: 0, rejected: 0 });
    t.staged += c.staged;
    t.loaded += c.loaded;
    t.rejected += c.rejected;
  }
}

/** Re-mapped whatever the digests say: batch 1 and then evenly spread batches, `fraction` of all. */
export function remapSampled(fraction: number, batchNo: number): boolean {
  return fraction >= 1 || (fraction > 0 && (batchNo === 1 || Math.floor(batchNo * fraction) > Math.floor((batchNo - 1) * fraction)));
}

/**
 * Sorts one batch's differing rows into its findings: a customer counts once, as missing before
 * wrong id before mismatched, whichever of its two tables said so.
 */
export function classifyDifferences(differences: readonly RowDifference[], codeOf: ReadonlyMap<string, number>, into: BatchCheck): void {
  const verdicts = new Map<string, 'missing' | 'wrongId' | 'mismatched'>();
  for (const d of differences) {
    const verdict = d.missing ? 'missing' : d.wrong_id ? 'wrongId' : 'mismatched';
    if (verdict === 'mismatched') for (const c of d.columns) into.mismatchedColumns.add(c);
    if (verdicts.get(d.id) !== 'missing' && verdicts.get(d.id) !== 'wrongId') verdicts.set(d.id, verdict);
  }
  const findings = { missing: into.missing, wrongId: into.wrongIds, mismatched: into.mismatched };
  for (const [id, verdict] of verdicts) findings[verdict].add(codeOf.get(id)!);
}

export type ValueCheckCoverage = NonNullable<Reconciliation['valueCheck']>;

/** The value check over all batches: each batch's findings added as it is checked. */
export class ValueCheckTally {
  readonly recomputed: Record<string, TypeCounts> = {};
  readonly found: BatchCheck = emptyBatchCheck({});

  constructor(readonly coverage: ValueCheckCoverage) {}

  add(batch: BatchCheck, how: 'recorded' | 'remappedSample' | 'remappedOnDifference'): void {
    this.coverage[how]++;
    addCounts(this.recomputed, batch.byType);
    this.found.missing.merge(batch.missing);
    this.found.wrongIds.merge(batch.wrongIds);
    this.found.mismatched.merge(batch.mismatched);
    this.found.stale.merge(batch.stale);
    batch.mismatchedColumns.forEach((c) => this.found.mismatchedColumns.add(c));
  }
}

/** The run as the report describes it (migration_run). */
export interface ReconciledRun {
  mode: string;
  extraction: ExtractionRecord | null;
  snapshot_at: string | null;
  fingerprint: Fingerprint | null;
}

/** Everything the checks found, for `reconciliationReport`. */
export interface ReconcileFindings {
  run: ReconciledRun;
  /** Rows staged by the run. */
  staged: number;
  batches: readonly { batch_no: number; status: string; by_type: Record<string, TypeCounts> | null }[];
  /** Counts per type from re-checking the batches, and what they found. */
  recomputed: Record<string, TypeCounts>;
  found: BatchCheck;
  valueCheck: ValueCheckCoverage;
  orphans: Findings;
  deletedInSource: Findings;
  staleEarlier: Findings;
  againstSource: ReconciliationCheck;
  futureDated: { count: number; examples: number[] };
  fingerprints: ReconciliationCheck;
  checkedAt: string;
}

const total = (counts: Record<string, TypeCounts>, f: keyof TypeCounts) => Object.values(counts).reduce((n, c) => n + c[f], 0);

/** By type name: batches finish in any order, the report must not. */
function sortedByType(counts: Record<string, TypeCounts>): Record<string, TypeCounts> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

function allBatchesDone(batches: ReconcileFindings['batches']): ReconciliationCheck {
  const notDone = batches.filter((b) => b.status !== 'DONE').map((b) => b.batch_no);
  return {
    name: 'all_batches_done',
    ok: notDone.length === 0,
    detail: notDone.length ? `${notDone.length} batch(es) not loaded: ${notDone.slice(0, EXAMPLES).join(', ')}` : `${batches.length} batch(es) loaded`,
    count: notDone.length,
  };
}

function countsAddUp({ run, staged, batches, recomputed }: ReconcileFindings, byType: Record<string, TypeCounts>): ReconciliationCheck {
  const recorded: Record<string, TypeCounts> = {};
  for (const b of batches) if (b.status === 'DONE') addCounts(recorded, b.by_type ?? {});
  const typeLines = Object.entries(byType)
    .map(([type, c]) => `${type}: staged ${c.staged} = loaded ${c.loaded} + rejected ${c.rejected}`)
    .join('; ');
  return {
    name: 'staged_equals_loaded_plus_rejected',
    // A full run stages every row it read (contract 5.1): extracted = staged.
    ok:
      staged === total(recomputed, 'staged') &&
      total(recomputed, 'staged') === total(recomputed, 'loaded') + total(recomputed, 'rejected') &&
      total(recorded, 'loaded') === total(recomputed, 'loaded') &&
      total(recorded, 'rejected') === total(recomputed, 'rejected') &&
      (run.mode !== 'full' || run.extraction?.rowsRead === staged),
    detail: `${run.mode === 'full' ? `extracted ${run.extraction?.rowsRead ?? '?'}, ` : ''}staged ${staged}; ${typeLines || 'no rows'}; recorded by the batches: loaded ${total(recorded, 'loaded')}, rejected ${total(recorded, 'rejected')}`,
  };
}

function loadedRowsPresent({ missing, wrongIds }: BatchCheck): ReconciliationCheck {
  return {
    name: 'loaded_rows_present_with_stable_ids',
    ok: missing.count === 0 && wrongIds.count === 0,
    detail: `${missing.count} loaded code(s) missing a customer or customer_profile row, ${wrongIds.count} with ids other than customer_uuids`,
    count: missing.count + wrongIds.count,
    examples: [...missing.examples, ...wrongIds.examples].slice(0, EXAMPLES),
  };
}

function noOrphans(orphans: Findings): ReconciliationCheck {
  return {
    name: 'no_destination_row_without_staged_source',
    ok: orphans.count === 0,
    detail: `${orphans.count} destination customer(s) with no staged source row (checked ${orphans.via === 'set digests' ? 'by set digests' : 'id by id'})`,
    count: orphans.count,
  };
}

function valuesMatch({ mismatched, mismatchedColumns }: BatchCheck, v: ValueCheckCoverage): ReconciliationCheck {
  return {
    name: 'values_match_mapping',
    ok: mismatched.count === 0,
    detail:
      (mismatched.count
        ? `${mismatched.count} row(s) differ from the mapping, in ${[...mismatchedColumns].join(', ')}`
        : `every loaded row matches the mapping`) +
      ` (batches: ${v.recorded} equal to what their load recorded, ${v.remappedSample} re-mapped as a sample, ${v.remappedOnDifference} re-mapped on a difference)`,
    count: mismatched.count,
    examples: mismatched.examples,
  };
}

/** The reconciliation report: every check in its fixed order, ok only when all are. */
export function reconciliationReport(f: ReconcileFindings): Reconciliation {
  const byType = sortedByType(f.recomputed);
  const stale = new Findings();
  stale.merge(f.found.stale);
  stale.merge(f.staleEarlier);
  const checks: ReconciliationCheck[] = [
    f.againstSource,
    allBatchesDone(f.batches),
    countsAddUp(f, byType),
    loadedRowsPresent(f.found),
    noOrphans(f.orphans),
    valuesMatch(f.found, f.valueCheck),
    f.fingerprints,
  ];
  return {
    ok: checks.every((c) => c.ok),
    checkedAt: f.checkedAt,
    byType,
    checks,
    stale: { count: stale.count, examples: stale.examples },
    deletedInSource: { count: f.deletedInSource.count, examples: f.deletedInSource.examples, via: f.deletedInSource.via },
    futureDated: f.futureDated,
    snapshotAt: f.run.snapshot_at ?? null,
    fingerprint: f.run.fingerprint ?? null,
    valueCheck: f.valueCheck,
  };
}
