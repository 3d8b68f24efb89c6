import type { CliContext } from '../context';
import { shortValue } from '../render';
import { canonicalJson } from '../pack/manifest';
import { sourceRowByCode } from '../../db/source/customers';
import { stagedCustomer } from '../../db/staging/customers';
import { runsThatReadCode, type RunTouch } from '../../db/staging/extract-chunks';
import { issuesOfCode, type CodeIssue } from '../../db/staging/issues';
import { destinationRowsOf } from '../../db/destination/customers';
import { readBranches } from '../../activities/staged';
import { readRunDate } from '../../db/staging/runs';
import { readMappingDocument } from '../../mapping';
import { explainRow, valueAt, type ColumnOrigin } from '../../mapping/explain';
import type { MappingIssue, SourceRow } from '../../mapping/types';
import { UsageError } from '../../lib/cli-errors';

export interface Explanation {
  code: number;
  source: SourceRow | null;
  staged: SourceRow | null;
  /** Source columns whose staged value differs from the source's now (a change not yet extracted). */
  stagedDiffersFromSource: string[];
  ids: {
    customerId: string | null;
    customerProfileId: string | null;
    firstStagedBy: { runNumber: number; workflowId: string; readAt: string } | null;
    lastStagedBy: number | null;
  };
  runs: (RunTouch & { outcome: string; issues: CodeIssue[] })[];
  destination: { customer: Record<string, unknown> | null; profile: Record<string, unknown> | null };
  mapping: {
    runDate: string | null;
    customerType: string | null;
    outcome: 'LOAD' | 'REJECT' | null;
    reject: MappingIssue | null;
    warnings: MappingIssue[];
    columns: (ColumnOrigin & { held: unknown; matches: boolean | null })[];
  };
}

const same = (a: unknown, b: unknown): boolean => canonicalJson(a ?? null) === canonicalJson(b ?? null);

/** Gathers one customer from the three databases and the mapping document (reads only). */
export async function explainCustomer(ctx: CliContext, code: number): Promise<Explanation> {
  const mapping = ctx.mapping();
  const [source, staged, runs, issues] = await Promise.all([
    sourceRowByCode(ctx.source(), mapping, code),
    stagedCustomer(ctx.staging(), mapping, code),
    runsThatReadCode(ctx.staging(), code),
    issuesOfCode(ctx.staging(), code),
  ]);
  if (!source && !staged.row && !staged.customerId) throw new UsageError(`customer code ${code} is in neither the source nor staging`);
  const destination = staged.customerId ? await destinationRowsOf(ctx.destination(), mapping, staged.customerId) : { customer: null, profile: null };

  // The mapping applied to the staged row as the run that staged it last mapped it (its run date, today's branch_map).
  const runDate = staged.extractedRunId !== null ? await readRunDate(ctx.staging(), staged.extractedRunId) : null;
  const result =
    staged.row && staged.customerId && staged.customerProfileId && runDate
      ? mapping.mapRow(
          staged.row,
          { runDate, customerId: staged.customerId, customerProfileId: staged.customerProfileId },
          (await readBranches(ctx.staging())).lookup,
        )
      : null;
  const origins = explainRow(readMappingDocument(ctx.config.MAPPING_FILE), result?.customerType ?? null, staged.row ?? source, result?.ok ? result : null);
  const heldOf = (o: ColumnOrigin) => {
    const [column, ...path] = o.column.split('.');
    const row = o.table === mapping.destination.customerTable ? destination.customer : destination.profile;
    return row ? valueAt(row[column], path) : undefined;
  };

  const byRun = (n: number) => issues.filter((i) => i.runNumber === n);
  const outcome = (r: RunTouch): string => {
    const reject = byRun(r.runNumber).find((i) => i.severity === 'REJECT');
    if (reject) return `rejected: ${reject.reason}`;
    if (r.batchStatus === 'DONE') return byRun(r.runNumber).length ? 'loaded with warnings' : 'loaded';
    return r.batchNo === null ? 'read, not planned into a batch' : `read; batch ${r.batchNo} ${r.batchStatus}`;
  };
  const first = runs[0];
  return {
    code,
    source,
    staged: staged.row,
    stagedDiffersFromSource: source && staged.row ? mapping.source.columns.filter((c) => !same(source[c], staged.row![c])) : [],
    ids: {
      customerId: staged.customerId,
      customerProfileId: staged.customerProfileId,
      firstStagedBy: first ? { runNumber: first.runNumber, workflowId: first.workflowId, readAt: first.readAt } : null,
      lastStagedBy: staged.extractedRunId,
    },
    runs: runs.map((r) => ({ ...r, outcome: outcome(r), issues: byRun(r.runNumber) })),
    destination,
    mapping: {
      runDate,
      customerType: result?.customerType ?? null,
      outcome: result ? (result.ok ? 'LOAD' : 'REJECT') : null,
      reject: result && !result.ok ? result.reject : null,
      warnings: result?.warnings ?? [],
      columns: origins.map((o) => {
        const held = heldOf(o);
        return { ...o, held, matches: o.mapped === undefined || held === undefined ? null : same(o.mapped, held) };
      }),
    },
  };
}

function printRow(title: string, row: SourceRow | null, differs: string[] = []): void {
  if (!row) {
    console.log(`${title}: none`);
    return;
  }
  console.log(`${title}:`);
  const width = Math.max(...Object.keys(row).map((k) => k.length));
  for (const [k, v] of Object.entries(row))
    console.log(`  ${k.padEnd(width)}  ${shortValue(v, 80)}${differs.includes(k) ? '   (differs from the source now)' : ''}`);
}

function printExplanation(e: Explanation): void {
  console.log(`Customer ${e.code} (operator view: these are customer values; keep this output where customer data may be)`);
  console.log(`  customerId ${e.ids.customerId ?? '(none yet)'}, customerProfileId ${e.ids.customerProfileId ?? '(none yet)'}`);
  if (e.ids.firstStagedBy)
    console.log(
      `  ids given when first staged, by run #${e.ids.firstStagedBy.runNumber} (${e.ids.firstStagedBy.workflowId}), read from the source snapshot at ${e.ids.firstStagedBy.readAt}; never changed since`,
    );
  if (e.ids.lastStagedBy !== null) console.log(`  staged row last written by run #${e.ids.lastStagedBy}`);
  console.log('');
  printRow('Source row now', e.source);
  console.log('');
  printRow('Staged row', e.staged, e.stagedDiffersFromSource);
  console.log('\nRuns that read it:');
  if (!e.runs.length) console.log('  none recorded');
  for (const r of e.runs) {
    console.log(`  #${r.runNumber} ${r.workflowId}: ${r.mode}, ${r.status}; read at ${r.readAt}; ${r.outcome}`);
    for (const i of r.issues) console.log(`      ${i.severity} ${i.reason} ${i.field ?? ''}=${shortValue(i.value, 60)} (batch ${i.batchNo})`);
  }
  const m = e.mapping;
  console.log(
    `\nMapping now (the staged row, run date ${m.runDate ?? '?'}): ${m.outcome ?? 'not mappable (no staged row or ids)'}${m.customerType ? `, ${m.customerType}` : ''}${m.reject ? `: ${m.reject.reason} ${m.reject.field}=${shortValue(m.reject.value, 60)}` : ''}`,
  );
  for (const w of m.warnings) console.log(`  warning ${w.reason} ${w.field}=${shortValue(w.value, 60)}`);
  console.log(
    `Destination: ${e.destination.customer ? 'customer row held' : 'no customer row'}, ${e.destination.profile ? 'customer_profile row held' : 'no customer_profile row'}`,
  );
  console.log('\nField by field (destination ← rule ← source column → normaliser):');
  for (const c of m.columns) {
    const mark = c.matches === false ? '  ≠ DESTINATION HOLDS ' + shortValue(c.held, 60) : '';
    const value =
      c.mapped !== undefined
        ? shortValue(c.mapped, 70)
        : c.held !== undefined
          ? `(not mapped now) destination holds ${shortValue(c.held, 60)}`
          : '(no value: the row is rejected)';
    console.log(`  ${c.table}.${c.column} = ${value}${mark}`);
    console.log(`      ← ${c.rule}`);
    for (const f of c.fields) {
      const extra = [
        f.default !== undefined ? `default ${JSON.stringify(f.default)} when missing` : '',
        f.override ? `override ${f.override}` : '',
        f.types ? `only ${f.types.join('/')}` : '',
      ]
        .filter(Boolean)
        .join('; ');
      console.log(`      ${f.field} ← ${f.source} ${shortValue(f.raw, 50)} → ${f.normaliser}${extra ? `; ${extra}` : ''}`);
    }
  }
  const differ = m.columns.filter((c) => c.matches === false);
  if (!e.destination.customer && !e.destination.profile) {
    console.log(
      `\nThe destination holds no row of this customer${m.outcome === 'REJECT' ? ': its staged row is rejected (above: where each value would come from)' : ''}.`,
    );
    return;
  }
  console.log(
    `\n${differ.length ? `${differ.length} destination value(s) differ from what the mapping gives now: ${differ.map((c) => `${c.table}.${c.column}`).join(', ')}` : 'Every destination value held is what the mapping gives for the staged row.'}`,
  );
}

/** `explain <customer_code>`: one customer from the source to the destination. Prints values, logs none. */
export async function explainCommand(ctx: CliContext, code: number): Promise<number> {
  const e = await explainCustomer(ctx, code);
  if (ctx.json) console.log(JSON.stringify(e));
  else printExplanation(e);
  return 0;
}
