import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { CliContext } from '../context';
import { queryProgress, resolveWorkflowId, uiLink } from '../runs';
import { decisionHint, ProgressPrinter, progressDetails, progressLine, reconciliationLines } from '../render';
import type { FailedBatch, Phase, Progress } from '../../workflows/definitions';
import type { RunStatus } from '../../contracts';

export interface RunStatusView {
  runId: string;
  /** Temporal's view: RUNNING, COMPLETED, FAILED, TERMINATED… */
  workflowStatus: string;
  /** Who answered: the workflow's `progress` query, or staging's records when no worker could. */
  progressSource: 'workflow' | 'staging' | 'none';
  progress: Progress | null;
}

/** The run's staging records as a Progress, for runs no worker answers for (or a closed run's history). */
export async function progressFromStaging(staging: Pool, workflowId: string): Promise<Progress | null> {
  const row = (await staging.query(
    `SELECT r.run_id, r.pipeline, r.mode, r.status, r.phase, r.note, r.error, r.started_at, r.watermark_before, r.watermark_after,
            r.rows_extracted, r.rows_staged, r.batch_count, r.counts, r.reconciliation,
            b.done, b.failed, b.loaded, b.rejected, b.warned, b.failed_batches, b.first_started
     FROM migration_run r
     LEFT JOIN LATERAL (
       SELECT count(*) FILTER (WHERE status = 'DONE')::int AS done,
              count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
              COALESCE(sum(loaded), 0)::int AS loaded, COALESCE(sum(rejected), 0)::int AS rejected, COALESCE(sum(warned), 0)::int AS warned,
              min(started_at) AS first_started,
              COALESCE(json_agg(json_build_object('batchNo', batch_no, 'error', error, 'attempts', attempts) ORDER BY batch_no)
                       FILTER (WHERE status = 'FAILED'), '[]') AS failed_batches
       FROM migration_batch WHERE run_id = r.run_id) b ON true
     WHERE r.workflow_id = $1 ORDER BY r.run_id DESC LIMIT 1`,
    [workflowId],
  )).rows[0];
  if (!row) return null;
  const total = row.batch_count ?? 0;
  const running = row.status === 'RUNNING';
  // Staging does not record the wait itself: a running run with every batch settled and some failed waits.
  const phase: Phase = running && row.phase === 'loading' && row.failed > 0 && row.done + row.failed >= total ? 'awaiting-decision' : row.phase;
  return {
    runId: Number(row.run_id),
    pipeline: row.pipeline,
    mode: row.mode,
    phase,
    status: row.status as RunStatus | 'RUNNING',
    note: row.note,
    counts: {
      extracted: Number(row.counts?.extracted ?? row.rows_extracted ?? 0),
      staged: Number(row.counts?.staged ?? row.rows_staged ?? 0),
      loaded: row.loaded,
      rejected: row.rejected,
      warned: row.warned,
    },
    batches: { total, done: row.done, running: 0, failed: row.failed, pending: Math.max(0, total - row.done - row.failed) },
    failedBatches: row.failed_batches as FailedBatch[],
    rowsPerSecond: null,
    etaSeconds: null,
    decisionDeadline: null,
    decisions: [],
    startedAt: row.started_at,
    loadStartedAt: row.first_started,
    watermarkBefore: row.watermark_before,
    watermarkAfter: row.watermark_after,
    reconciliation: row.reconciliation,
    error: row.error,
  };
}

/** Rows the extraction has committed so far (the workflow learns the count only when the step ends). */
async function stagedExtractionCount(staging: Pool, runNumber: number): Promise<number | null> {
  const row = (await staging.query(`SELECT rows_extracted FROM migration_run WHERE run_id = $1`, [runNumber])).rows[0];
  return row?.rows_extracted ?? null;
}

/**
 * Where a run stands: the workflow's `progress` query (live), with the extraction's committed row
 * count from staging while it extracts; staging's records alone when no worker answers.
 */
export async function readStatus(deps: { client: Client; staging: Pool | null }, workflowId: string): Promise<RunStatusView> {
  const handle = deps.client.workflow.getHandle(workflowId);
  const description = await handle.describe().catch((err: Error) => {
    throw Object.assign(new Error(`no run ${workflowId}: ${err.message}`), { name: 'UsageError' });
  });
  const workflowStatus = description.status.name;
  const live = await queryProgress(handle);
  if (live) {
    if (deps.staging && live.runId !== null && (live.phase === 'extracting' || live.phase === 'assigning-ids')) {
      const extracted = await stagedExtractionCount(deps.staging, live.runId).catch(() => null);
      if (extracted !== null && extracted > live.counts.extracted) live.counts.extracted = extracted;
    }
    return { runId: workflowId, workflowStatus, progressSource: 'workflow', progress: live };
  }
  const recorded = deps.staging ? await progressFromStaging(deps.staging, workflowId).catch(() => null) : null;
  return { runId: workflowId, workflowStatus, progressSource: recorded ? 'staging' : 'none', progress: recorded };
}

function printStatus(view: RunStatusView, ui: string): void {
  const p = view.progress;
  console.log(`Run ${view.runId}: workflow ${view.workflowStatus}${p ? `, run #${p.runId ?? '?'} (${p.mode}${p.pipeline ? `, pipeline ${p.pipeline}` : ''}) ${p.status}` : ''}`);
  if (!p) {
    console.log('  (no worker answered the progress query and staging has no record of this run; start a worker with: npm run worker)');
  } else {
    if (view.progressSource === 'staging') console.log('  (from staging records: no worker answered the progress query)');
    console.log(`  ${progressLine(p)}`);
    for (const line of progressDetails(p, view.runId)) console.log(`  ${line}`);
    if (p.reconciliation) console.log(reconciliationLines(p.reconciliation).map((l) => `  ${l}`).join('\n'));
  }
  console.log(`  report:      npm run migrate -- report ${view.runId}`);
  console.log(`  Temporal UI: ${ui}`);
}

export async function statusCommand(ctx: CliContext, runRef: string, { watch }: { watch: boolean }): Promise<number> {
  const workflowId = await resolveWorkflowId(ctx, runRef);
  const deps = { client: await ctx.client(), staging: ctx.staging() };
  let view = await readStatus(deps, workflowId);
  if (watch && !ctx.json) {
    const printer = new ProgressPrinter({ onPhase: (p) => decisionHint(p, workflowId) });
    while (view.workflowStatus === 'RUNNING') {
      if (view.progress) printer.update(view.progress);
      await new Promise((r) => setTimeout(r, 1000));
      view = await readStatus(deps, workflowId);
    }
    if (view.progress) printer.update(view.progress);
    printer.done();
  }
  const ui = uiLink(ctx, workflowId);
  if (ctx.json) {
    // runId is the workflow id everywhere in the CLI's JSON; the staging run number is runNumber.
    const { runId: runNumber = null, ...progress } = view.progress ?? {};
    console.log(JSON.stringify({ runId: workflowId, runNumber, workflowStatus: view.workflowStatus, progressSource: view.progressSource, ...progress, ui }));
    return 0;
  }
  printStatus(view, ui);
  return 0;
}
