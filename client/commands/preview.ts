import type { Pool } from 'pg';
import { withReadOnlyTransaction as readOnly } from '../../db/transaction';
import type { AppConfig } from '../../config/env';
import { createPool } from '../../db/pools';
import { qualified } from '../../db/copy';
import { readRowsToPreview } from '../../db/preview';
import { idsOfCodes } from '../../db/staging/customer-ids';
import type { BranchLookup, CompiledMapping, MappingIssue, SourceRow } from '../../mapping/types';
import { readBranches, UNKNOWN_TYPE } from '../../activities/staged';
import { UsageError } from '../../lib/cli-errors';
import type { CliContext } from '../context';
import { shortValue, table } from '../render';

export interface PreviewOptions {
  /** Rows to preview when no codes are named (the lowest codes). */
  limit: number;
  /** Exactly these customer codes. */
  codes: number[] | null;
  /** Read efz_customer in the source database instead of staging's stg_customer. */
  source: boolean;
  /** The run date for the mapping's "future" rules, 'YYYY-MM-DD'; today (UTC) by default. */
  runDate?: string;
}

export interface PreviewRow {
  code: number;
  customerType: string;
  outcome: 'LOAD' | 'REJECT';
  /** True when the code has no customer_uuids yet: the ids shown are placeholders, not the ones a run will give. */
  placeholderIds: boolean;
  customer: Record<string, unknown> | null;
  profile: Record<string, unknown> | null;
  reject: MappingIssue | null;
  warnings: MappingIssue[];
  /** The row as read (source columns). */
  row: SourceRow;
}

export interface Preview {
  from: 'staging' | 'source';
  table: string;
  runDate: string;
  requested: { limit: number | null; codes: number[] | null };
  notFound: number[];
  summary: { rows: number; load: number; reject: number; withWarnings: number; placeholderIds: number };
  issues: { severity: MappingIssue['severity']; reason: string; field: string; count: number; examples: number[] }[];
  rows: PreviewRow[];
  /** Always true: preview reads in READ ONLY transactions and writes nothing anywhere. */
  wroteNothing: true;
}

/** A recognisable, valid-looking id for a code that has none yet: 00000000-0000-0000-0000-<code>. */
export function placeholderId(code: number, kind: 'customer' | 'profile'): string {
  return `00000000-0000-0000-${kind === 'customer' ? '0000' : '0001'}-${String(code).padStart(12, '0')}`;
}

/**
 * Maps rows as a run would (the real engine, the branch_map lookup), with their ids where `ids` has
 * them and placeholder ids otherwise; the issues are counted by severity, reason and field.
 */
export function mapPreviewRows(
  mapping: CompiledMapping,
  rows: SourceRow[],
  { runDate, ids, branches }: { runDate: string; ids: ReadonlyMap<number, { cid: string; pid: string }>; branches: BranchLookup },
): { rows: PreviewRow[]; issues: Preview['issues'] } {
  const { key } = mapping.source;
  const previewRows: PreviewRow[] = [];
  const issues = new Map<string, Preview['issues'][number]>();
  const note = (code: number, i: MappingIssue) => {
    const k = `${i.severity}\u0000${i.reason}\u0000${i.field}`;
    const entry = issues.get(k) ?? { severity: i.severity, reason: i.reason, field: i.field, count: 0, examples: [] };
    entry.count++;
    if (entry.examples.length < 5) entry.examples.push(code);
    issues.set(k, entry);
  };
  for (const row of rows) {
    const code = Number(row[key]);
    const known = ids.get(code);
    const customerId = known?.cid ?? placeholderId(code, 'customer');
    const customerProfileId = known?.pid ?? placeholderId(code, 'profile');
    const result = mapping.mapRow(row, { runDate, customerId, customerProfileId }, branches);
    if (!result.ok) note(code, result.reject);
    result.warnings.forEach((w) => note(code, w));
    previewRows.push({
      code,
      customerType: result.customerType ?? UNKNOWN_TYPE,
      outcome: result.ok ? 'LOAD' : 'REJECT',
      placeholderIds: !known,
      customer: result.ok ? result.customer : null,
      profile: result.ok ? result.profile : null,
      reject: result.ok ? null : result.reject,
      warnings: result.warnings,
      row,
    });
  }
  return {
    rows: previewRows,
    issues: [...issues.values()].sort((a, b) => a.severity.localeCompare(b.severity) || b.count - a.count || a.reason.localeCompare(b.reason)),
  };
}

/**
 * Applies the mapping to sample staged rows (or source rows) and answers what a run would write,
 * reject and warn about — without writing anything: every query runs in a READ ONLY transaction.
 */
export async function buildPreview(deps: { staging: Pool; source?: Pool; mapping: CompiledMapping }, options: PreviewOptions): Promise<Preview> {
  const { mapping } = deps;
  const runDate = options.runDate ?? new Date().toISOString().slice(0, 10);
  const selection = { codes: options.codes, limit: options.limit };

  let rows: SourceRow[];
  let tableName: string;
  if (options.source) {
    if (!deps.source) throw new Error('preview --source needs the source database');
    tableName = qualified(mapping.source.schema, mapping.source.table);
    rows = await readOnly(deps.source, (c) => readRowsToPreview(c, tableName, mapping.source, selection));
  } else {
    tableName = 'stg_customer';
    rows = await readOnly(deps.staging, (c) => readRowsToPreview(c, 'stg_customer', mapping.source, selection));
  }
  const { key } = mapping.source;
  const codes = rows.map((r) => Number(r[key]));
  const ids = await readOnly(deps.staging, (c) => idsOfCodes(c, codes));
  const branches = (await readBranches(deps.staging)).lookup; // one SELECT, as the load reads them

  const { rows: previewRows, issues } = mapPreviewRows(mapping, rows, { runDate, ids, branches });
  const seen = new Set(codes);
  return {
    from: options.source ? 'source' : 'staging',
    table: tableName,
    runDate,
    requested: { limit: options.codes ? null : options.limit, codes: options.codes },
    notFound: (options.codes ?? []).filter((c) => !seen.has(c)),
    summary: {
      rows: previewRows.length,
      load: previewRows.filter((r) => r.outcome === 'LOAD').length,
      reject: previewRows.filter((r) => r.outcome === 'REJECT').length,
      withWarnings: previewRows.filter((r) => r.warnings.length > 0).length,
      placeholderIds: previewRows.filter((r) => r.placeholderIds).length,
    },
    issues,
    rows: previewRows,
    wroteNothing: true,
  };
}

export function parseCodes(value: string | undefined): number[] | null {
  if (value === undefined) return null;
  const parts = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (!parts.length || parts.some((p) => !/^\d+$/.test(p) || Number(p) > 2_147_483_647)) {
    throw new UsageError(`--codes takes customer codes separated by commas, e.g. --codes 12,345, not '${value}'`);
  }
  return [...new Set(parts.map(Number))];
}

function issueText(i: MappingIssue): string {
  return `${i.reason} ${i.field}=${shortValue(i.value, 40)}`;
}

function printPreview(p: Preview): void {
  console.log(`Preview of ${p.summary.rows} row(s) from ${p.from} (${p.table}), run date ${p.runDate}: nothing is written.`);
  if (p.notFound.length) console.log(`  not found in ${p.table}: ${p.notFound.join(', ')}`);
  if (!p.rows.length) {
    console.log(p.from === 'staging' ? '  staging holds no rows yet: preview the source with --source' : '  the source holds no such rows');
    return;
  }
  for (const r of p.rows) {
    console.log('');
    const ids = r.placeholderIds ? ' (placeholder ids: no customer_uuids yet)' : '';
    if (r.outcome === 'REJECT') {
      console.log(`code ${r.code}  ${r.customerType}  REJECT ${issueText(r.reject!)}`);
    } else {
      console.log(`code ${r.code}  ${r.customerType}  LOAD${ids}`);
      console.log(`  customer:         ${JSON.stringify(r.customer)}`);
      const { customerProfileData, ...profile } = r.profile ?? {};
      console.log(`  customer_profile: ${JSON.stringify(profile)}`);
      console.log(`  profile data:     ${JSON.stringify(customerProfileData)}`);
    }
    for (const w of r.warnings) console.log(`  warning: ${issueText(w)}`);
  }
  const s = p.summary;
  console.log(
    `\n${s.rows} row(s): ${s.load} would load, ${s.reject} would be rejected, ${s.withWarnings} with warnings${s.placeholderIds ? `; ${s.placeholderIds} with placeholder ids` : ''}.`,
  );
  if (p.issues.length) {
    console.log(
      table(
        p.issues.map((i) => [i.severity, i.reason, i.field, i.count, i.examples.join(', ')]),
        ['severity', 'reason', 'field', 'count', 'example codes'],
      ),
    );
  }
}

/** `preview`: the mapping applied to sample rows, printed; reads only. */
export async function previewCommand(ctx: CliContext, options: PreviewOptions): Promise<number> {
  const config: AppConfig = ctx.config;
  const mapping = ctx.mapping();
  const source = options.source
    ? createPool({ url: config.SOURCE_DATABASE_URL, role: 'source', max: 1, applicationName: 'customer-migration:cli-preview' })
    : undefined;
  try {
    const preview = await buildPreview({ staging: ctx.staging(), source, mapping }, options);
    if (ctx.json) console.log(JSON.stringify(preview));
    else printPreview(preview);
    return 0;
  } finally {
    await source?.end().catch(() => undefined);
  }
}
