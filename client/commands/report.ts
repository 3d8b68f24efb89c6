import type { CliContext } from '../context';
import { resolveWorkflowId, uiLink } from '../runs';
import { reconciliationLines, table } from '../render';
import type { ExtractionRecord, Fingerprint, Reconciliation, TypeCounts } from '../../contracts';
import { countsOfDoneBatches, runBatches, summariseBatches, typeCountsOfDoneBatches, type BatchRecord } from '../../db/staging/batches';
import { latestRunRecordOfWorkflow } from '../../db/staging/runs';
import { issueGroupsOfRun } from '../../db/staging/issues';
import { computeManifest, manifestInput, type Manifest } from '../pack/manifest';
import { renderReportPage } from '../pack/report-page';
import { writeArtifact } from '../pack/files';

/** Everything staging knows about a run: for sign-off, from staging alone (no worker needed). */
export async function readReport(ctx: Pick<CliContext, 'staging'>, workflowId: string) {
  const db = ctx.staging();
  const run = await latestRunRecordOfWorkflow(db, workflowId);
  if (!run) throw Object.assign(new Error(`no run ${workflowId} in the staging database`), { name: 'UsageError' });
  const [issueRows, b0, byType] = await Promise.all([
    issueGroupsOfRun(db, run.run_id),
    summariseBatches(db, run.run_id),
    // Counts per customer type as the batches recorded them (reconciliation recomputes them at the end).
    typeCountsOfDoneBatches(db, run.run_id),
  ]);
  const rejects = issueRows.filter((i) => i.severity === 'REJECT').reduce((n, i) => n + i.count, 0);
  const warnings = issueRows.filter((i) => i.severity === 'WARNING').reduce((n, i) => n + i.count, 0);
  const byBatches: Record<string, TypeCounts> = Object.fromEntries(byType.map((r) => [r.type, { staged: r.staged, loaded: r.loaded, rejected: r.rejected }]));
  const recorded = { loaded: 0, rejected: 0, warned: 0 };
  // A running run has no final counts yet: the batches done so far tell them.
  const sums = await countsOfDoneBatches(db, run.run_id);
  Object.assign(recorded, sums);
  const reconciliation = run.reconciliation as Reconciliation | null;
  const extraction = run.extraction as ExtractionRecord | null;
  const counts: Record<string, number> =
    (run.counts as Record<string, number> | null) ?? ({ extracted: run.rows_extracted, staged: run.rows_staged, ...recorded } as Record<string, number>);
  const notReady: string[] = [];
  if (run.status !== 'COMPLETED') notReady.push(`status is ${run.status}`);
  if (!reconciliation) notReady.push('no reconciliation');
  else if (!reconciliation.ok)
    notReady.push(
      `reconciliation failed: ${reconciliation.checks
        .filter((c) => !c.ok)
        .map((c) => c.name)
        .join(', ')}`,
    );
  if (b0.failed) notReady.push(`${b0.failed} failed batch(es)`);
  if (run.bulk_load && run.bulk_load.state !== 'RESTORED')
    notReady.push(
      `the destination keys dropped for the bulk load are not rebuilt (${run.bulk_load.state}): npm run migrate -- repair-constraints ${run.run_id}`,
    );
  return {
    runId: run.workflow_id as string,
    runNumber: Number(run.run_id),
    pipeline: run.pipeline,
    mode: run.mode,
    status: run.status,
    phase: run.phase,
    note: run.note,
    error: run.error,
    startedAt: run.started_at,
    finishedAt: run.finished_at,
    runDate: run.run_date,
    watermark: { before: run.watermark_before, after: run.watermark_after, extractSince: run.extract_since, snapshotAt: run.snapshot_at },
    counts,
    /** Whether extracted, staged, loaded and rejected add up, and why not where they do not. */
    countsAddUp: addUp(run.mode, counts, extraction),
    extraction,
    fingerprint: run.fingerprint as Fingerprint | null,
    /** The load path the run took and why; for the bulk path, where its dropped keys stand. */
    loadPath: run.load_path as { path: 'bulk' | 'upsert'; reason: string } | null,
    bulkLoad: run.bulk_load as { state: string; dropped_at: string | null; restored_at: string | null; error: string | null } | null,
    futureDated: reconciliation?.futureDated ?? null,
    /** Per customer type: the reconciliation's recount when there is one, else the batches' records. */
    byType: (reconciliation?.byType ?? byBatches) as Record<string, TypeCounts>,
    reconciliation,
    /** Ready to sign off: COMPLETED, reconciliation green, no failed batch. */
    signOff: { ready: notReady.length === 0, reasons: notReady },
    rejects,
    warnings,
    issues: issueRows,
    batches: {
      total: b0.total,
      done: b0.done,
      failed: b0.failed,
      pending: b0.pending,
      attempts: b0.attempts,
      avgMs: b0.avg_ms,
      p95Ms: b0.p95_ms,
      failedBatches: b0.failed_batches as { batchNo: number; lo: number; hi: number; attempts: number; error: string }[],
    },
  };
}

/**
 * extracted = staged (+ rows an incremental run kept a newer staged copy of), staged = loaded +
 * rejected: the report says which of these holds, and why not where one does not.
 */
function addUp(mode: string, counts: Record<string, number>, extraction: ExtractionRecord | null): { ok: boolean; lines: string[] } {
  const lines: string[] = [];
  let ok = true;
  const { extracted, staged, loaded, rejected } = counts;
  if ([extracted, staged, loaded, rejected].some((n) => typeof n !== 'number'))
    return { ok: false, lines: ['the run did not get as far as loading: no final counts'] };
  const keptNewer = mode === 'incremental' ? (extraction?.keptNewer ?? 0) : 0;
  if (extracted === staged + keptNewer) {
    lines.push(
      `extracted ${extracted} = staged ${staged}${keptNewer ? ` + ${keptNewer} kept (their staged copy is newer: see staged_equals_source_snapshot)` : ''}`,
    );
  } else {
    ok = false;
    lines.push(`extracted ${extracted} ≠ staged ${staged}${keptNewer ? ` + ${keptNewer} kept` : ''}: staging does not hold what the source sent`);
  }
  if (staged === loaded + rejected) lines.push(`staged ${staged} = loaded ${loaded} + rejected ${rejected}`);
  else {
    ok = false;
    lines.push(
      `staged ${staged} ≠ loaded ${loaded} + rejected ${rejected}: ${staged - loaded - rejected} row(s) in batches that did not load (failed, accepted or not reached)`,
    );
  }
  return { ok, lines };
}

export type Report = Awaited<ReturnType<typeof readReport>>;

/** A run's report with its batches and the sign-off manifest over them (from staging alone). */
export async function readSignedReport(
  ctx: Pick<CliContext, 'staging' | 'config'>,
  workflowId: string,
): Promise<{ report: Report; batches: BatchRecord[]; manifest: Manifest }> {
  const report = await readReport(ctx, workflowId);
  const batches = await runBatches(ctx.staging(), report.runNumber);
  return { report, batches, manifest: computeManifest(manifestInput(report, batches), ctx.config.SIGNOFF_HMAC_KEY) };
}

export async function reportCommand(ctx: CliContext, runRef: string, options: { html?: string } = {}): Promise<number> {
  const workflowId = await resolveWorkflowId(ctx, runRef);
  const { report, batches, manifest } = await readSignedReport(ctx, workflowId);
  const ui = uiLink(ctx, workflowId);
  if (options.html) writeArtifact(options.html, renderReportPage({ report, batches, manifest, generatedAt: new Date().toISOString(), uiLink: ui }));
  if (ctx.json) {
    console.log(JSON.stringify({ ...report, manifest, ui, ...(options.html ? { html: options.html } : {}) }));
    return 0;
  }
  console.log(`Run ${report.runId} (#${report.runNumber}, ${report.mode}, pipeline ${report.pipeline}): ${report.status}`);
  console.log(
    `  sign-off: ${report.signOff.ready ? 'READY (completed, reconciliation passed, no failed batch)' : `NOT READY: ${report.signOff.reasons.join('; ')}`}`,
  );
  console.log(`  started ${report.startedAt}, finished ${report.finishedAt ?? '(running)'}; run date ${report.runDate}`);
  if (report.note) console.log(`  note: ${report.note}`);
  if (report.error) console.log(`  error: ${report.error}`);
  console.log(
    `  watermark before ${report.watermark.before ?? '(none)'}, after ${report.watermark.after ?? '(none)'}${report.watermark.extractSince ? `; extracted rows updated since ${report.watermark.extractSince}` : ''}`,
  );
  console.log(
    `  source snapshot taken at ${report.watermark.snapshotAt ?? '(none)'} (the source's clock: the watermark a completed run records)${(report.extraction?.snapshots.length ?? 0) > 1 ? `; the extraction was resumed under ${report.extraction!.snapshots.length - 1} later snapshot(s)` : ''}`,
  );
  if (report.loadPath) {
    const b = report.bulkLoad;
    console.log(
      `  load path: ${report.loadPath.path} (${report.loadPath.reason})${b ? `; keys ${b.state === 'RESTORED' ? `rebuilt and verified at ${b.restored_at}` : `${b.state}${b.error ? `: ${b.error}` : ''}`}` : ''}`,
    );
  }
  const f = report.fingerprint;
  if (f)
    console.log(
      `  fingerprint: mapping sha256 ${f.mappingSha256}, branch_map sha256 ${f.branchMapSha256}, tenant ${f.tenantId}, migration user ${f.migrationUserName} (${f.migrationUserId})`,
    );
  // jsonb keeps its own key order: print the counts in the order of the pipeline.
  const order = ['extracted', 'staged', 'loaded', 'rejected', 'warned', 'batches', 'failedBatches'];
  const c = Object.entries(report.counts ?? {}).sort(([a], [b]) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
  console.log(`  counts: ${c.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`  ${report.countsAddUp.ok ? 'counts add up' : 'counts do NOT add up'}: ${report.countsAddUp.lines.join('; ')}`);
  if (report.reconciliation) {
    console.log('');
    console.log(reconciliationLines(report.reconciliation).join('\n'));
  } else {
    console.log('\nReconciliation: none (the run did not reach it)');
    const types = Object.entries(report.byType);
    if (types.length) {
      console.log('  by customer type, as recorded by the loaded batches:');
      for (const [type, t] of types) console.log(`    ${type.padEnd(11)} staged ${t.staged} = loaded ${t.loaded} + rejected ${t.rejected}`);
    }
  }
  console.log(`\nRejects (${report.rejects}) and warnings (${report.warnings}) by reason:`);
  console.log(
    report.issues.length
      ? table(
          report.issues.map((i) => [i.severity, i.reason, i.field, i.count, (i.examples ?? []).join(', ')]),
          ['severity', 'reason', 'field', 'count', 'example codes'],
        )
          .split('\n')
          .map((l) => `  ${l}`)
          .join('\n')
      : '  none',
  );
  if (report.rejects) console.log(`  every reject with its source row: npm run migrate -- rejects ${report.runId} --csv rejects.csv`);
  const b = report.batches;
  console.log(
    `\nBatches: ${b.done}/${b.total} done, ${b.failed} failed, ${b.pending} pending; ${b.attempts} load attempts; ${b.avgMs ?? '?'} ms average, ${b.p95Ms ?? '?'} ms p95`,
  );
  for (const f of b.failedBatches) console.log(`  FAILED batch ${f.batchNo} [codes ${f.lo}..${f.hi}] after ${f.attempts} attempt(s): ${f.error}`);
  console.log(
    `\nManifest (batch digests, counts, fingerprint, reconciliation): sha256 ${manifest.sha256}${manifest.hmac ? `, hmac-sha256 ${manifest.hmac}` : ' (unsigned: SIGNOFF_HMAC_KEY unset)'}`,
  );
  if (options.html) console.log(`Sign-off pack written to ${options.html}; check it later with: npm run migrate -- verify-report ${options.html}`);
  console.log(`\nTemporal UI: ${ui}`);
  return 0;
}
