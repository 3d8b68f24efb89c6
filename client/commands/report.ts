import type { CliContext } from '../context';
import { resolveWorkflowId, uiLink } from '../runs';
import { reconciliationLines, table } from '../render';
import type { Reconciliation } from '../../activities/types';

/** Everything staging knows about a run: for sign-off, from staging alone (no worker needed). */
export async function readReport(ctx: CliContext, workflowId: string) {
  const db = ctx.staging();
  const run = (await db.query(
    `SELECT run_id, pipeline, workflow_id, mode, status, phase, note, error, started_at, finished_at, run_date::text,
            watermark_before, watermark_after, extract_since, rows_extracted, rows_staged, batch_count, counts, reconciliation
     FROM migration_run WHERE workflow_id = $1 ORDER BY run_id DESC LIMIT 1`,
    [workflowId],
  )).rows[0];
  if (!run) throw Object.assign(new Error(`no run ${workflowId} in the staging database`), { name: 'UsageError' });
  const [issues, batches] = await Promise.all([
    db.query(
      `SELECT severity, reason, field, count(*)::int AS count, (array_agg(customer_code ORDER BY customer_code))[1:5] AS examples
       FROM migration_issue WHERE run_id = $1 GROUP BY severity, reason, field ORDER BY severity, count(*) DESC, reason`,
      [run.run_id],
    ),
    db.query(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE status = 'DONE')::int AS done,
              count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
              count(*) FILTER (WHERE status = 'PENDING')::int AS pending,
              COALESCE(sum(attempts), 0)::int AS attempts,
              round(avg(EXTRACT(EPOCH FROM finished_at - started_at) * 1000) FILTER (WHERE status = 'DONE'))::int AS avg_ms,
              round((percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM finished_at - started_at) * 1000)) FILTER (WHERE status = 'DONE'))::int AS p95_ms,
              COALESCE(json_agg(json_build_object('batchNo', batch_no, 'lo', lo, 'hi', hi, 'attempts', attempts, 'error', error)) FILTER (WHERE status = 'FAILED'), '[]') AS failed_batches
       FROM migration_batch WHERE run_id = $1`,
      [run.run_id],
    ),
  ]);
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
    watermark: { before: run.watermark_before, after: run.watermark_after, extractSince: run.extract_since },
    counts: run.counts ?? { extracted: run.rows_extracted, staged: run.rows_staged },
    reconciliation: run.reconciliation as Reconciliation | null,
    issues: issues.rows.map((r) => ({ severity: r.severity, reason: r.reason, field: r.field, count: r.count, examples: r.examples })),
    batches: {
      total: batches.rows[0].total,
      done: batches.rows[0].done,
      failed: batches.rows[0].failed,
      pending: batches.rows[0].pending,
      attempts: batches.rows[0].attempts,
      avgMs: batches.rows[0].avg_ms,
      p95Ms: batches.rows[0].p95_ms,
      failedBatches: batches.rows[0].failed_batches,
    },
  };
}

export async function reportCommand(ctx: CliContext, runRef: string): Promise<number> {
  const workflowId = await resolveWorkflowId(ctx, runRef);
  const report = await readReport(ctx, workflowId);
  if (ctx.json) {
    console.log(JSON.stringify({ ...report, ui: uiLink(ctx, workflowId) }));
    return 0;
  }
  console.log(`Run ${report.runId} (#${report.runNumber}, ${report.mode}, pipeline ${report.pipeline}): ${report.status}`);
  console.log(`  started ${report.startedAt}, finished ${report.finishedAt ?? '(running)'}; run date ${report.runDate}`);
  if (report.note) console.log(`  note: ${report.note}`);
  if (report.error) console.log(`  error: ${report.error}`);
  console.log(`  watermark before ${report.watermark.before ?? '(none)'}, after ${report.watermark.after ?? '(none)'}${report.watermark.extractSince ? `; extracted rows updated since ${report.watermark.extractSince}` : ''}`);
  const c = report.counts ?? {};
  console.log(`  counts: ${Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (report.reconciliation) console.log(reconciliationLines(report.reconciliation).map((l) => `  ${l}`).join('\n'));
  console.log('\nRejects and warnings by reason:');
  console.log(report.issues.length ? table(report.issues.map((i) => [i.severity, i.reason, i.field, i.count, (i.examples ?? []).join(', ')]), ['severity', 'reason', 'field', 'count', 'example codes']) : '  none');
  const b = report.batches;
  console.log(`\nBatches: ${b.done}/${b.total} done, ${b.failed} failed, ${b.pending} pending; ${b.attempts} attempts; ${b.avgMs ?? '?'} ms average, ${b.p95Ms ?? '?'} ms p95`);
  for (const f of b.failedBatches) console.log(`  FAILED batch ${f.batchNo} [${f.lo}..${f.hi}] after ${f.attempts} attempts: ${f.error}`);
  console.log(`\nTemporal UI: ${uiLink(ctx, workflowId)}`);
  return 0;
}
