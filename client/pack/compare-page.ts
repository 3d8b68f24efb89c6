import { formatMs } from '../render';
import type { Comparison } from './compare';
import { factTable, htmlPage, htmlTable, type Cell } from './page';
import { barChart, esc } from './svg';

const signed = (n: number | null): string => (n === null ? '' : n > 0 ? `+${n}` : String(n));
const okText = (ok: boolean | null): Cell => (ok === null ? '(none)' : { text: ok ? 'PASS' : 'FAIL', cls: ok ? 'ok' : 'fail' });

/** Two rehearsals side by side as one self-contained page (inline CSS and SVG, nothing fetched). */
export function renderComparePage(c: Comparison, generatedAt: string): string {
  const parts: string[] = [];
  parts.push(`<h1>Rehearsals compared: ${esc(c.a.runId)} and ${esc(c.b.runId)}</h1>`);
  parts.push(
    `<p class="muted">A = #${c.a.runNumber} (${esc(c.a.mode)}, ${esc(c.a.status)}), B = #${c.b.runNumber} (${esc(c.b.mode)}, ${esc(c.b.status)}); generated ${esc(generatedAt)}</p>`,
  );
  parts.push('<h2>Phases</h2>');
  parts.push(
    htmlTable(
      ['phase', 'A duration', 'A rows/s', 'B duration', 'B rows/s'],
      c.phases.map((p) => [p.phase, formatMs(p.a.ms), p.a.rowsPerSecond, formatMs(p.b.ms), p.b.rowsPerSecond]),
    ),
  );
  parts.push(
    barChart(
      'phase-durations',
      'phase durations, A then B (s)',
      c.phases
        .filter((p) => p.phase !== 'total')
        .flatMap((p) => [
          { label: `${p.phase} A`, value: (p.a.ms ?? 0) / 1000, color: '#3b6ea8' },
          { label: `${p.phase} B`, value: (p.b.ms ?? 0) / 1000, color: '#c99a2e' },
        ]),
      's',
    ),
  );
  parts.push('<h2>Projected cutover</h2>');
  const pr = c.projection;
  parts.push(
    pr
      ? `<p data-key="projection.totalMs">${esc(pr.sourceRows)} source row(s) now, at the rates of ${esc(pr.basedOn)}: about ${esc(formatMs(pr.totalMs))}</p>` +
          htmlTable(
            ['phase', 'rows/s', 'projected'],
            pr.phases.map((p) => [p.phase, p.rowsPerSecond, formatMs(p.ms)]),
          )
      : '<p>no projection: neither run recorded its phases</p>',
  );
  parts.push('<h2>Counts</h2>');
  parts.push(
    htmlTable(
      ['count', 'A', 'B', 'B − A'],
      c.counts.map((d) => [d.name, d.a, d.b, signed(d.delta)]),
    ),
  );
  parts.push('<h2>Rejects and warnings by reason</h2>');
  parts.push(
    htmlTable(
      ['severity', 'reason', 'field', 'A', 'B', 'B − A', 'example codes'],
      c.issues.map((i) => [i.severity, i.reason, i.field, i.a, i.b, signed(i.delta), i.examples.join(', ')]),
    ),
  );
  parts.push('<h2>Reconciliation</h2>');
  parts.push(
    htmlTable(
      ['check', 'A', 'B'],
      [['(overall)', okText(c.a.reconciliationOk), okText(c.b.reconciliationOk)], ...c.checks.map((k): Cell[] => [k.name, okText(k.a), okText(k.b)])],
    ),
  );
  parts.push('<h2>Fingerprints</h2>');
  const f = (k: 'mappingSha256' | 'branchMapSha256' | 'tenantId' | 'migrationUserId' | 'migrationUserName'): Cell[] => [
    k,
    { text: c.fingerprints.a?.[k] ?? '(none)', cls: 'mono' },
    { text: c.fingerprints.b?.[k] ?? '(none)', cls: 'mono' },
    c.fingerprints.changed.includes(k) ? { text: 'CHANGED', cls: 'fail' } : 'same',
  ];
  parts.push(htmlTable(['', 'A', 'B', ''], (['mappingSha256', 'branchMapSha256', 'tenantId', 'migrationUserId', 'migrationUserName'] as const).map(f)));
  parts.push('<h2>Destination values between the two loads</h2>');
  const r = c.ranges;
  parts.push(
    factTable([
      ['key ranges compared', r.compared],
      ['same digests', r.same],
      ['digests differ', { text: r.differ.length, key: 'ranges.differ' }],
      ['customers in the ranges that differ (at most this many changed)', { text: r.customersInChangedRanges, key: 'ranges.customers' }],
      ['ranges only A / only B loaded (not compared)', `${r.onlyA} / ${r.onlyB}`],
    ]),
  );
  if (r.differ.length)
    parts.push(
      htmlTable(
        ['codes', 'customers A', 'customers B'],
        r.differ.slice(0, 200).map((d) => [`${d.lo}..${d.hi}`, d.customersA, d.customersB]),
      ),
    );
  return htmlPage(`Rehearsals compared: ${c.a.runId} / ${c.b.runId}`, parts.join('\n'));
}
