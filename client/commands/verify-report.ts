import * as fs from 'node:fs';
import type { CliContext } from '../context';
import { readSignedReport } from './report';
import { batchCustomers } from '../../db/staging/batches';
import type { BatchDigest } from '../../db/pg-text';
import { sameDigest, valueDigests } from '../../activities/value-digest';
import { manifestDifferences } from '../pack/manifest';
import { pageData, visibleText } from '../pack/page';
import { renderReportPage, type ReportPageData } from '../pack/report-page';
import { UsageError } from '../../lib/cli-errors';

export interface DestinationBatchCheck {
  batchNo: number;
  lo: number;
  hi: number;
  /** What the batch's load recorded, and what the destination (and staging) give now. */
  expected: BatchDigest;
  held: BatchDigest | null;
  problem: string;
}

export interface VerifyResult {
  file: string;
  runId: string;
  matches: boolean;
  manifest: { page: { sha256: string; hmac: string | null }; database: { sha256: string; hmac: string | null }; problems: string[] };
  page: { matches: boolean; differences: { page: string[]; database: string[] }; problem: string | null };
  destination: { batchesChecked: number; changed: DestinationBatchCheck[] };
}

/** Lines of `a` that `b` lacks (as many times as `a` has more of them). */
function linesNotIn(a: readonly string[], b: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const l of b) left.set(l, (left.get(l) ?? 0) + 1);
  return a.filter((l) => {
    const n = left.get(l) ?? 0;
    if (n > 0) left.set(l, n - 1);
    return n === 0;
  });
}

/**
 * Every DONE batch's destination rows digested again where they are (value-digest's held()) over the
 * ids staging gives for the batch (staged minus rejected), against the digest its load recorded.
 */
async function checkDestination(
  ctx: CliContext,
  runNumber: number,
  batches: Awaited<ReturnType<typeof readSignedReport>>['batches'],
): Promise<{ checked: number; changed: DestinationBatchCheck[] }> {
  const digests = await valueDigests(ctx.destination(), ctx.mapping());
  const changed: DestinationBatchCheck[] = [];
  let checked = 0;
  for (const b of batches) {
    if (b.status !== 'DONE' || !b.expected) continue;
    checked++;
    const { staged, rejectedCodes } = await batchCustomers(ctx.staging(), runNumber, b);
    const ids = staged.filter((s) => !rejectedCodes.has(s.code)).map((s) => s.id);
    if (ids.length !== b.expected.customers) {
      changed.push({
        batchNo: b.batchNo,
        lo: b.lo,
        hi: b.hi,
        expected: b.expected,
        held: null,
        problem: `staging now holds ${ids.length} loaded row(s) of this run in codes ${b.lo}..${b.hi}, the load recorded ${b.expected.customers} (a later run re-extracted or re-staged them)`,
      });
      continue;
    }
    const held = await digests.held(ids);
    if (!sameDigest(held, b.expected)) {
      const what = [
        held.customers !== b.expected.customers ? `${held.customers} customer row(s) held, ${b.expected.customers} loaded` : '',
        held.profiles !== b.expected.profiles ? `${held.profiles} profile row(s) held, ${b.expected.profiles} loaded` : '',
        held.customerDigest !== b.expected.customerDigest ? 'customer values differ' : '',
        held.profileDigest !== b.expected.profileDigest ? 'customer_profile values differ' : '',
      ].filter(Boolean);
      changed.push({
        batchNo: b.batchNo,
        lo: b.lo,
        hi: b.hi,
        expected: b.expected,
        held,
        problem: `the destination no longer holds what batch ${b.batchNo} loaded: ${what.join(', ')}`,
      });
    }
  }
  return { checked, changed };
}

/** Recomputes a sign-off page from staging and the destination and says whether it still matches. */
export async function verifyReport(ctx: CliContext, file: string): Promise<VerifyResult> {
  let html: string;
  try {
    html = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const data = pageData(html) as ReportPageData | null;
  if (!data || data.kind !== 'signoff-pack' || typeof data.runId !== 'string' || !data.manifest)
    throw new UsageError(`${file} is not a sign-off pack written by 'report --html' (no pack data in it)`);
  const { report, batches, manifest } = await readSignedReport(ctx, data.runId);
  const manifestProblems = manifestDifferences(data.manifest, manifest, Boolean(ctx.config.SIGNOFF_HMAC_KEY));
  const destination = await checkDestination(ctx, report.runNumber, batches);

  // The page drawn again from what the database holds now, as of the page's own time and link.
  const drawn = renderReportPage({
    report,
    batches,
    manifest: { ...manifest, hmac: data.manifest.hmac && !manifest.hmac ? data.manifest.hmac : manifest.hmac },
    generatedAt: data.generatedAt,
    uiLink: data.uiLink,
  });
  const [onPage, fromDb] = [visibleText(html), visibleText(drawn)];
  const differences = { page: linesNotIn(onPage, fromDb).slice(0, 20), database: linesNotIn(fromDb, onPage).slice(0, 20) };
  const pageMatches = drawn === html;
  const problem = pageMatches
    ? null
    : differences.page.length || differences.database.length
      ? 'the page shows what the database does not'
      : "the page's markup differs from what the database draws (its visible text is the same)";
  return {
    file,
    runId: data.runId,
    matches: pageMatches && manifestProblems.length === 0 && destination.changed.length === 0,
    manifest: {
      page: { sha256: data.manifest.sha256, hmac: data.manifest.hmac ?? null },
      database: { sha256: manifest.sha256, hmac: manifest.hmac },
      problems: manifestProblems,
    },
    page: { matches: pageMatches, differences, problem },
    destination: { batchesChecked: destination.checked, changed: destination.changed },
  };
}

export async function verifyReportCommand(ctx: CliContext, file: string): Promise<number> {
  const v = await verifyReport(ctx, file);
  if (ctx.json) {
    console.log(JSON.stringify(v));
    return v.matches ? 0 : 1;
  }
  console.log(`${v.file}: sign-off pack of run ${v.runId}: ${v.matches ? 'MATCHES the database' : 'DOES NOT MATCH the database'}`);
  console.log(`  manifest: page ${v.manifest.page.sha256}, database ${v.manifest.database.sha256}${v.manifest.database.hmac ? ' (HMAC checked)' : ''}`);
  for (const p of v.manifest.problems) console.log(`  MISMATCH ${p}`);
  console.log(`  page text: ${v.page.matches ? 'as the database draws it' : `MISMATCH: ${v.page.problem}`}`);
  for (const l of v.page.differences.page) console.log(`    page says:     ${l}`);
  for (const l of v.page.differences.database) console.log(`    database says: ${l}`);
  console.log(`  destination: ${v.destination.batchesChecked} batch digest(s) recomputed in the destination, ${v.destination.changed.length} differ`);
  for (const c of v.destination.changed) console.log(`    MISMATCH batch ${c.batchNo} [codes ${c.lo}..${c.hi}]: ${c.problem}`);
  return v.matches ? 0 : 1;
}
