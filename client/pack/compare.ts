import type { Report } from '../commands/report';
import type { BatchRecord } from '../../db/staging/batches';
import type { RunTimes } from '../../db/staging/runs';
import { fingerprintDifferences } from '../../activities/fingerprint';

/** One run as compare sees it. */
export interface RunSide {
  report: Report;
  batches: readonly BatchRecord[];
  times: RunTimes;
}

export interface Phase {
  phase: 'extract' | 'load' | 'reconcile' | 'finish' | 'total';
  ms: number | null;
  rows: number | null;
  rowsPerSecond: number | null;
}

const span = (from: number | null, to: number | null): number | null => (from === null || to === null ? null : Math.max(0, to - from));
const rate = (rows: number | null, ms: number | null): number | null => (rows === null || !ms ? null : Math.round((rows * 1000) / ms));

/**
 * A run's phases from its recorded times: extract (start → first batch: reading, staging, ids,
 * planning), load (first batch start → last batch finish), reconcile (→ its checkedAt), finish
 * (→ finished_at), and the total, each with the rows it handled and its rows per second.
 */
export function phasesOf({ report, times }: Pick<RunSide, 'report' | 'times'>): Phase[] {
  const c = report.counts ?? {};
  const extracted = typeof c.extracted === 'number' ? c.extracted : null;
  const staged = typeof c.staged === 'number' ? c.staged : null;
  const phases: [Phase['phase'], number | null, number | null][] = [
    ['extract', span(times.startedMs, times.firstBatchStartedMs), extracted],
    ['load', span(times.firstBatchStartedMs, times.lastBatchFinishedMs), staged],
    ['reconcile', span(times.lastBatchFinishedMs, times.reconciledMs), staged],
    ['finish', span(times.reconciledMs, times.finishedMs), null],
    ['total', span(times.startedMs, times.finishedMs), extracted],
  ];
  return phases.map(([phase, ms, rows]) => ({ phase, ms, rows, rowsPerSecond: rate(rows, ms) }));
}

export interface Delta {
  a: number | null;
  b: number | null;
  delta: number | null;
}
const delta = (a: number | null | undefined, b: number | null | undefined): Delta => ({
  a: a ?? null,
  b: b ?? null,
  delta: typeof a === 'number' && typeof b === 'number' ? b - a : null,
});

export function countDeltas(a: Report, b: Report): ({ name: string } & Delta)[] {
  const order = ['extracted', 'staged', 'loaded', 'rejected', 'warned', 'batches', 'failedBatches'];
  const names = [...new Set([...Object.keys(a.counts ?? {}), ...Object.keys(b.counts ?? {})])].sort(
    (x, y) => (order.indexOf(x) + 1 || 99) - (order.indexOf(y) + 1 || 99),
  );
  return names.map((name) => ({ name, ...delta(a.counts?.[name], b.counts?.[name]) }));
}

export function issueDeltas(a: Report, b: Report): ({ severity: string; reason: string; field: string | null; examples: number[] } & Delta)[] {
  const key = (i: { severity: string; reason: string; field: string | null }) => `${i.severity}\u0000${i.reason}\u0000${i.field ?? ''}`;
  const all = new Map<string, { severity: string; reason: string; field: string | null; examples: number[]; a: number; b: number }>();
  for (const [side, r] of [
    ['a', a],
    ['b', b],
  ] as const) {
    for (const i of r.issues) {
      const e = all.get(key(i)) ?? { severity: i.severity, reason: i.reason, field: i.field, examples: [], a: 0, b: 0 };
      e[side] = i.count;
      if (side === 'b' || !e.examples.length) e.examples = (i.examples ?? []).slice(0, 3);
      all.set(key(i), e);
    }
  }
  return [...all.values()]
    .sort((x, y) => x.severity.localeCompare(y.severity) || Math.max(y.a, y.b) - Math.max(x.a, x.b) || x.reason.localeCompare(y.reason))
    .map((e) => ({ severity: e.severity, reason: e.reason, field: e.field, examples: e.examples, ...delta(e.a, e.b) }));
}

export function checkResults(a: Report, b: Report): { name: string; a: boolean | null; b: boolean | null }[] {
  const names = [...new Set([...(a.reconciliation?.checks ?? []), ...(b.reconciliation?.checks ?? [])].map((c) => c.name))];
  const okOf = (r: Report, n: string) => r.reconciliation?.checks.find((c) => c.name === n)?.ok ?? null;
  return names.map((name) => ({ name, a: okOf(a, name), b: okOf(b, name) }));
}

export interface RangeComparison {
  /** Key ranges both runs loaded (same lo..hi): their digests compared. */
  compared: number;
  same: number;
  /** Ranges whose destination values differ between the two loads, with the customers each load wrote there. */
  differ: { lo: number; hi: number; customersA: number; customersB: number }[];
  /** Customers in the ranges that differ: an upper bound of the customers whose values changed. */
  customersInChangedRanges: number;
  /** Ranges only one run loaded (batch sizes or the incremental run's keys differ): not compared. */
  onlyA: number;
  onlyB: number;
}

/** Which key ranges' destination values differ between two runs' loads, from their batch digests. */
export function compareRanges(a: readonly BatchRecord[], b: readonly BatchRecord[]): RangeComparison {
  const loaded = (bs: readonly BatchRecord[]) => new Map(bs.filter((x) => x.status === 'DONE' && x.expected).map((x) => [`${x.lo}..${x.hi}`, x]));
  const [ma, mb] = [loaded(a), loaded(b)];
  const out: RangeComparison = { compared: 0, same: 0, differ: [], customersInChangedRanges: 0, onlyA: 0, onlyB: 0 };
  for (const [range, x] of ma) {
    const y = mb.get(range);
    if (!y) {
      out.onlyA++;
      continue;
    }
    out.compared++;
    const [ex, ey] = [x.expected!, y.expected!];
    if (ex.customers === ey.customers && ex.profiles === ey.profiles && ex.customerDigest === ey.customerDigest && ex.profileDigest === ey.profileDigest)
      out.same++;
    else {
      out.differ.push({ lo: x.lo, hi: x.hi, customersA: ex.customers, customersB: ey.customers });
      out.customersInChangedRanges += Math.max(ex.customers, ey.customers);
    }
  }
  out.onlyB = [...mb.keys()].filter((k) => !ma.has(k)).length;
  out.differ.sort((p, q) => p.lo - q.lo);
  return out;
}

export interface Projection {
  sourceRows: number;
  /** The rehearsal whose rates project the shorter cutover. */
  basedOn: string;
  phases: { phase: Phase['phase']; rowsPerSecond: number | null; ms: number | null }[];
  totalMs: number | null;
}

/**
 * The real cutover's duration from the source's current row count at a rehearsal's rates: extract,
 * load and reconcile scale with the rows, the finish step is taken as it was. The faster rehearsal
 * (the shorter projection) is the one the projection is based on.
 */
export function projectCutover(sourceRows: number, sides: { runId: string; phases: Phase[] }[]): Projection | null {
  const projections = sides.map(({ runId, phases }) => {
    const ps = (['extract', 'load', 'reconcile', 'finish'] as const).map((name) => {
      const p = phases.find((x) => x.phase === name)!;
      const ms = name === 'finish' ? p.ms : p.rowsPerSecond ? Math.round((sourceRows * 1000) / p.rowsPerSecond) : null;
      return { phase: name, rowsPerSecond: p.rowsPerSecond, ms };
    });
    const totalMs = ps.some((p) => p.ms === null) ? null : ps.reduce((n, p) => n + p.ms!, 0);
    return { sourceRows, basedOn: runId, phases: ps, totalMs };
  });
  const usable = projections.filter((p) => p.totalMs !== null).sort((x, y) => x.totalMs! - y.totalMs!);
  return usable[0] ?? projections[0] ?? null;
}

export interface Comparison {
  a: { runId: string; runNumber: number; mode: string; status: string; signOff: Report['signOff']; reconciliationOk: boolean | null };
  b: Comparison['a'];
  phases: { phase: Phase['phase']; a: Phase; b: Phase }[];
  counts: ReturnType<typeof countDeltas>;
  issues: ReturnType<typeof issueDeltas>;
  checks: ReturnType<typeof checkResults>;
  fingerprints: { a: Report['fingerprint']; b: Report['fingerprint']; changed: string[] };
  ranges: RangeComparison;
  projection: Projection | null;
}

export function compareRuns(a: RunSide, b: RunSide, sourceRows: number): Comparison {
  const [pa, pb] = [phasesOf(a), phasesOf(b)];
  const head = (s: RunSide) => ({
    runId: s.report.runId,
    runNumber: s.report.runNumber,
    mode: s.report.mode,
    status: s.report.status,
    signOff: s.report.signOff,
    reconciliationOk: s.report.reconciliation?.ok ?? null,
  });
  return {
    a: head(a),
    b: head(b),
    phases: pa.map((p, i) => ({ phase: p.phase, a: p, b: pb[i] })),
    counts: countDeltas(a.report, b.report),
    issues: issueDeltas(a.report, b.report),
    checks: checkResults(a.report, b.report),
    fingerprints: { a: a.report.fingerprint, b: b.report.fingerprint, changed: fingerprintDifferences(a.report.fingerprint, b.report.fingerprint) },
    ranges: compareRanges(a.batches, b.batches),
    projection: projectCutover(sourceRows, [
      { runId: a.report.runId, phases: pa },
      { runId: b.report.runId, phases: pb },
    ]),
  };
}
