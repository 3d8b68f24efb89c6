import type { CliContext } from '../context';
import { resolveWorkflowId } from '../runs';
import { formatMs, table } from '../render';
import { readReport } from './report';
import { runBatches } from '../../db/staging/batches';
import { runTimes } from '../../db/staging/runs';
import { sourceRowCount } from '../../db/source/customers';
import { compareRuns, type Comparison, type RunSide } from '../pack/compare';
import { renderComparePage } from '../pack/compare-page';
import { writeArtifact } from '../pack/files';

async function side(ctx: CliContext, runRef: string): Promise<RunSide> {
  const report = await readReport(ctx, await resolveWorkflowId(ctx, runRef));
  const [batches, times] = await Promise.all([runBatches(ctx.staging(), report.runNumber), runTimes(ctx.staging(), report.runNumber)]);
  return { report, batches, times };
}

const signed = (n: number | null): string => (n === null ? '' : n > 0 ? `+${n}` : String(n));
const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

function printComparison(c: Comparison): void {
  console.log(`Compare A = ${c.a.runId} (#${c.a.runNumber}, ${c.a.mode}, ${c.a.status}) with B = ${c.b.runId} (#${c.b.runNumber}, ${c.b.mode}, ${c.b.status})`);
  console.log('\nPhases:');
  console.log(
    indent(
      table(
        c.phases.map((p) => [p.phase, formatMs(p.a.ms), p.a.rowsPerSecond, formatMs(p.b.ms), p.b.rowsPerSecond]),
        ['phase', 'A', 'A rows/s', 'B', 'B rows/s'],
      ),
    ),
  );
  console.log('\nCounts:');
  console.log(
    indent(
      table(
        c.counts.map((d) => [d.name, d.a, d.b, signed(d.delta)]),
        ['count', 'A', 'B', 'B-A'],
      ),
    ),
  );
  console.log('\nRejects and warnings by reason:');
  console.log(
    c.issues.length
      ? indent(
          table(
            c.issues.map((i) => [i.severity, i.reason, i.field, i.a, i.b, signed(i.delta), i.examples.join(', ')]),
            ['severity', 'reason', 'field', 'A', 'B', 'B-A', 'example codes'],
          ),
        )
      : '  none in either run',
  );
  const ok = (v: boolean | null) => (v === null ? '(none)' : v ? 'PASS' : 'FAIL');
  console.log('\nReconciliation:');
  console.log(
    indent(table([['(overall)', ok(c.a.reconciliationOk), ok(c.b.reconciliationOk)], ...c.checks.map((k) => [k.name, ok(k.a), ok(k.b)])], ['check', 'A', 'B'])),
  );
  console.log(
    `\nFingerprints: ${c.fingerprints.changed.length ? `CHANGED ${c.fingerprints.changed.join(', ')}` : 'the same (mapping, branch_map, constants)'}`,
  );
  for (const k of c.fingerprints.changed)
    console.log(
      `  ${k}: A ${(c.fingerprints.a as Record<string, string> | null)?.[k] ?? '(none)'} → B ${(c.fingerprints.b as Record<string, string> | null)?.[k] ?? '(none)'}`,
    );
  const r = c.ranges;
  console.log(
    `\nDestination values between the two loads: ${r.compared} key range(s) compared, ${r.same} the same, ${r.differ.length} differ (at most ${r.customersInChangedRanges} customer(s) changed)${r.onlyA || r.onlyB ? `; ${r.onlyA} range(s) only A and ${r.onlyB} only B loaded (not compared)` : ''}`,
  );
  for (const d of r.differ.slice(0, 20)) console.log(`  codes ${d.lo}..${d.hi}: ${d.customersA} customer(s) in A, ${d.customersB} in B`);
  if (r.differ.length > 20) console.log(`  … and ${r.differ.length - 20} more range(s) (--json lists them all)`);
  const p = c.projection;
  if (p) {
    console.log(`\nProjected cutover: ${p.sourceRows} source row(s) now, at the rates of ${p.basedOn} (the faster): about ${formatMs(p.totalMs)}`);
    console.log(
      indent(
        table(
          p.phases.map((x) => [x.phase, x.rowsPerSecond, formatMs(x.ms)]),
          ['phase', 'rows/s', 'projected'],
        ),
      ),
    );
  }
}

/** `compare <runA> <runB>`: two rehearsals side by side, and the cutover they project. */
export async function compareCommand(ctx: CliContext, refA: string, refB: string, options: { html?: string } = {}): Promise<number> {
  const [a, b] = [await side(ctx, refA), await side(ctx, refB)];
  const comparison = compareRuns(a, b, await sourceRowCount(ctx.source(), ctx.mapping()));
  if (options.html) writeArtifact(options.html, renderComparePage(comparison, new Date().toISOString()));
  if (ctx.json) console.log(JSON.stringify({ ...comparison, ...(options.html ? { html: options.html } : {}) }));
  else {
    printComparison(comparison);
    if (options.html) console.log(`\nComparison page written to ${options.html}`);
  }
  return 0;
}
