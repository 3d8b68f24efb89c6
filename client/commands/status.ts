import type { CliContext } from '../context';
import { queryProgress, resolveWorkflowId, uiLink } from '../runs';
import { ProgressPrinter, progressLine, reconciliationLines } from '../render';
import type { Progress } from '../../workflows/definitions';

/** Reads the run's progress from the workflow, or from staging when no worker can answer. */
async function readProgress(ctx: CliContext, workflowId: string): Promise<{ progress: Progress | null; workflowStatus: string }> {
  const client = await ctx.client();
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe().catch((err: Error) => {
    throw Object.assign(new Error(`no run ${workflowId}: ${err.message}`), { name: 'UsageError' });
  });
  return { progress: await queryProgress(handle), workflowStatus: description.status.name };
}

export async function statusCommand(ctx: CliContext, runRef: string, { watch }: { watch: boolean }): Promise<number> {
  const workflowId = await resolveWorkflowId(ctx, runRef);
  let { progress, workflowStatus } = await readProgress(ctx, workflowId);
  if (watch && !ctx.json) {
    const printer = new ProgressPrinter();
    while (workflowStatus === 'RUNNING') {
      if (progress) printer.update(progress);
      await new Promise((r) => setTimeout(r, 1000));
      ({ progress, workflowStatus } = await readProgress(ctx, workflowId));
    }
    if (progress) printer.update(progress);
    printer.done();
  }
  if (ctx.json) {
    console.log(JSON.stringify({ runId: workflowId, workflowStatus, ...(progress ?? {}), ui: uiLink(ctx, workflowId) }));
    return 0;
  }
  console.log(`Run ${workflowId}: workflow ${workflowStatus}${progress ? `, run #${progress.runId} (${progress.mode}) ${progress.status}` : ''}`);
  if (!progress) {
    console.log('  (no worker answered the progress query; start one with: npm run worker)');
  } else {
    console.log(`  ${progressLine(progress)}`);
    if (progress.note) console.log(`  note: ${progress.note}`);
    for (const f of progress.failedBatches) console.log(`  FAILED batch ${f.batchNo} after ${f.attempts} attempts: ${f.error}`);
    if (progress.phase === 'awaiting-decision') {
      console.log(`  waiting for a decision: npm run migrate -- retry ${workflowId} | accept-failures ${workflowId} | abort ${workflowId}`);
    }
    if (progress.error) console.log(`  error: ${progress.error}`);
    if (progress.reconciliation) console.log(reconciliationLines(progress.reconciliation).map((l) => `  ${l}`).join('\n'));
  }
  console.log(`  Temporal UI: ${uiLink(ctx, workflowId)}`);
  return 0;
}
