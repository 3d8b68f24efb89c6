import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { CliContext } from '../context';
import { queryProgress, resolveWorkflowId, uiLink } from '../runs';
import { decisionHint, ProgressPrinter, progressDetails, progressLine, reconciliationLines } from '../render';
import type { FailedBatch, Phase, Progress } from '../../workflows/definitions';
import type { Reconciliation, RunMode, RunStatus } from '../../contracts';
import { latestRunWithBatchTotals, rowsExtractedOfRun } from '../../db/staging/runs';

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
  const row = await latestRunWithBatchTotals(staging, workflowId);
  if (!row) return null;
  const total = row.batch_count ?? 0;
  const running = row.status === 'RUNNING';
  // Staging does not record the wait itself: a running run with every batch settled and some failed waits.
  const phase: Phase = running && row.phase === 'loading' && row.failed > 0 && row.done + row.failed >= total ? 'awaiting-decision' : (row.phase as Phase);
  return {
    runId: Number(row.run_id),
    pipeline: row.pipeline,
    mode: row.mode as RunMode,
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
    reconciliation: row.reconciliation as Reconciliation | null,
    error: row.error,
  };
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
      // Rows the extraction has committed so far (the workflow learns the count only when the step ends).
      const extracted = await rowsExtractedOfRun(deps.staging, live.runId).catch(() => null);
      if (extracted !== null && extracted > live.counts.extracted) live.counts.extracted = extracted;
    }
    return { runId: workflowId, workflowStatus, progressSource: 'workflow', progress: live };
  }
  const recorded = deps.staging ? await progressFromStaging(deps.staging, workflowId).catch(() => null) : null;
  return { runId: workflowId, workflowStatus, progressSource: recorded ? 'staging' : 'none', progress: recorded };
}

function printStatus(view: RunStatusView, ui: string): void {
  const p = view.progress;
  console.log(
    `Run ${view.runId}: workflow ${view.workflowStatus}${p ? `, run #${p.runId ?? '?'} (${p.mode}${p.pipeline ? `, pipeline ${p.pipeline}` : ''}) ${p.status}` : ''}`,
  );
  if (!p) {
    console.log('  (no worker answered the progress query and staging has no record of this run; start a worker with: npm run worker)');
  } else {
    if (view.progressSource === 'staging') console.log('  (from staging records: no worker answered the progress query)');
    console.log(`  ${progressLine(p)}`);
    for (const line of progressDetails(p, view.runId)) console.log(`  ${line}`);
    if (p.reconciliation)
      console.log(
        reconciliationLines(p.reconciliation)
          .map((l) => `  ${l}`)
          .join('\n'),
      );
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
