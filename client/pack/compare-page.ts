import { formatMs } from '../render';
import type { Comparison } from './compare';
import { factTable, htmlPage, htmlTable, type Cell } from './page';
import { barChart, esc } from './svg';

const signed = (n: number | null): string => (n === null ? '' : n > 0 ? `+${n}` : String(n));
const okText = (ok: boolean | null): Cell => (ok === null ? '(none)' : { text: ok ? 'PASS' : 'FAIL', cls: ok ? 'ok' : 'fail' });

const FINGERPRINT_FIELDS = ['mappingSha256', 'branchMapSha256', 'tenantId', 'migrationUserId', 'migrationUserName'] as const;

function headerSection(c: Comparison, generatedAt: string): string[] {
  return [
    `<h1>Rehearsals compared: ${esc(c.a.runId)} and ${esc(c.b.runId)}</h1>`,
    `<p class="muted">A = #${c.a.runNumber} (${esc(c.a.mode)}, ${esc(c.a.status)}), B = #${c.b.runNumber} (${esc(c.b.mode)}, ${esc(c.b.status)}); generated ${esc(generatedAt)}</p>`,
  ];
}

function phasesSection(phases: Comparison['phases']): string[] {
  return [
    '<h2>Phases</h2>',
    htmlTable(
      ['phase', 'A duration', 'A rows/s', 'B duration', 'B rows/s'],
      phases.map((p) => [p.phase, formatMs(p.a.ms), p.a.rowsPerSecond, formatMs(p.b.ms), p.b.rowsPerSecond]),
    ),
    barChart(
      'phase-durations',
      'phase durations, A then B (s)',
      phases
        .filter((p) => p.phase !== 'total')
        .flatMap((p) => [
          { label: `${p.phase} A`, value: (p.a.ms ?? 0) / 1000, color: '#3b6ea8' },
          { label: `${p.phase} B`, value: (p.b.ms ?? 0) / 1000, color: '#c99a2e' },
        ]),
      's',
    ),
  ];
}

function projectionSection(pr: Comparison['projection']): string[] {
  return [
    '<h2>Projected cutover</h2>',
    pr
      ? `<p data-key="projection.totalMs">${esc(pr.sourceRows)} source row(s) now, at the rates of ${esc(pr.basedOn)}: about ${esc(formatMs(pr.totalMs))}</p>` +
        htmlTable(
          ['phase', 'rows/s', 'projected'],
          pr.phases.map((p) => [p.phase, p.rowsPerSecond, formatMs(p.ms)]),
        )
      : '<p>no projection: neither run recorded its phases</p>',
  ];
}

/** Counts, rejects and warnings by reason, and the reconciliation's checks, A beside B. */
function resultsSections(c: Comparison): string[] {
  return [
    '<h2>Counts</h2>',
    htmlTable(
      ['count', 'A', 'B', 'B − A'],
      c.counts.map((d) => [d.name, d.a, d.b, signed(d.delta)]),
    ),
    '<h2>Rejects and warnings by reason</h2>',
    htmlTable(
      ['severity', 'reason', 'field', 'A', 'B', 'B − A', 'example codes'],
      c.issues.map((i) => [i.severity, i.reason, i.field, i.a, i.b, signed(i.delta), i.examples.join(', ')]),
    ),
    '<h2>Reconciliation</h2>',
    htmlTable(
      ['check', 'A', 'B'],
      [['(overall)', okText(c.a.reconciliationOk), okText(c.b.reconciliationOk)], ...c.checks.map((k): Cell[] => [k.name, okText(k.a), okText(k.b)])],
    ),
  ];
}

function fingerprintsSection(fingerprints: Comparison['fingerprints']): string[] {
  const row = (k: (typeof FINGERPRINT_FIELDS)[number]): Cell[] => [
    k,
    { text: fingerprints.a?.[k] ?? '(none)', cls: 'mono' },
    { text: fingerprints.b?.[k] ?? '(none)', cls: 'mono' },
    fingerprints.changed.includes(k) ? { text: 'CHANGED', cls: 'fail' } : 'same',
  ];
  return ['<h2>Fingerprints</h2>', htmlTable(['', 'A', 'B', ''], FINGERPRINT_FIELDS.map(row))];
}

function rangesSection(r: Comparison['ranges']): string[] {
  const parts = [
    '<h2>Destination values between the two loads</h2>',
    factTable([
      ['key ranges compared', r.compared],
      ['same digests', r.same],
      ['digests differ', { text: r.differ.length, key: 'ranges.differ' }],
      ['customers in the ranges that differ (at most this many changed)', { text: r.customersInChangedRanges, key: 'ranges.customers' }],
      ['ranges only A / only B loaded (not compared)', `${r.onlyA} / ${r.onlyB}`],
    ]),
  ];
  if (r.differ.length)
    parts.push(
      htmlTable(
        ['codes', 'customers A', 'customers B'],
        r.differ.slice(0, 200).map((d) => [`${d.lo}..${d.hi}`, d.customersA, d.customersB]),
      ),
    );
  return parts;
}

/** Two rehearsals side by side as one self-contained page (inline CSS and SVG, nothing fetched). */
export function renderComparePage(c: Comparison, generatedAt: string): string {
  const parts = [
    ...headerSection(c, generatedAt),
    ...phasesSection(c.phases),
    ...projectionSection(c.projection),
    ...resultsSections(c),
    ...fingerprintsSection(c.fingerprints),
    ...rangesSection(c.ranges),
  ];
  return htmlPage(`Rehearsals compared: ${c.a.runId} / ${c.b.runId}`, parts.join('\n'));
}
