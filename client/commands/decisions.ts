import { Client, WorkflowHandle, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { CliContext } from '../context';
import { resolveWorkflowId } from '../runs';
import { abortUpdate, acceptFailuresUpdate, retryFailedBatchesUpdate } from '../../workflows/definitions';

/** How long a decision waits for the workflow's answer (a worker must be running to give it). */
const ANSWER_WITHIN_MS = 60_000;

const usage = (message: string) => Object.assign(new Error(message), { name: 'UsageError' });

/** The run's handle, when it is still running: decisions on a finished run are refused in one line. */
async function runningRun(ctx: CliContext, runRef: string): Promise<{ client: Client; handle: WorkflowHandle }> {
  const client = await ctx.client();
  const workflowId = await resolveWorkflowId(ctx, runRef);
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe().catch((err: Error) => {
    throw usage(`no run ${workflowId}: ${err.message}`);
  });
  if (description.status.name !== 'RUNNING') {
    throw usage(`run ${workflowId} is ${description.status.name}: decisions apply only to a running run (see: npm run migrate -- report ${workflowId})`);
  }
  return { client, handle };
}

/** Update failures (a validator's "no failed batches", say) are the operator's to read, in one line. */
async function update<T>(ctx: CliContext, client: Client, workflowId: string, run: () => Promise<T>): Promise<T> {
  try {
    return await client.withDeadline(Date.now() + ANSWER_WITHIN_MS, run);
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw usage(err.cause?.message || 'the run refused the decision');
    const e = err as { code?: number; message?: string };
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || e?.code === 4 /* DEADLINE_EXCEEDED */ || /deadline/i.test(e?.message ?? '')) {
      throw new Error(
        `no answer from run ${workflowId} within ${ANSWER_WITHIN_MS / 1000} s: is a worker running on task queue ${ctx.config.TEMPORAL_TASK_QUEUE}? ` +
          `Check with: npm run migrate -- status ${workflowId}`,
      );
    }
    throw err;
  }
}

export async function retryCommand(ctx: CliContext, runRef: string, batches: number[]): Promise<number> {
  const { client, handle } = await runningRun(ctx, runRef);
  const answer = await update(ctx, client, handle.workflowId, () => handle.executeUpdate(retryFailedBatchesUpdate, { args: [{ batches }] }));
  if (ctx.json) console.log(JSON.stringify({ runId: handle.workflowId, ...answer }));
  else
    console.log(
      `Scheduled ${answer.scheduled.length} batch(es) again: ${answer.scheduled.join(', ')}\n  follow: npm run migrate -- status ${handle.workflowId} --watch`,
    );
  return 0;
}

export async function acceptFailuresCommand(ctx: CliContext, runRef: string): Promise<number> {
  const { client, handle } = await runningRun(ctx, runRef);
  const answer = await update(ctx, client, handle.workflowId, () => handle.executeUpdate(acceptFailuresUpdate, { args: [] }));
  if (ctx.json) console.log(JSON.stringify({ runId: handle.workflowId, ...answer }));
  else
    console.log(
      `Accepted ${answer.accepted.length} failed batch(es) (${answer.accepted.join(', ')}); the run reconciles and ends COMPLETED_WITH_FAILURES.\n  follow: npm run migrate -- status ${handle.workflowId} --watch`,
    );
  return 0;
}

export async function abortCommand(ctx: CliContext, runRef: string, reason?: string): Promise<number> {
  const { client, handle } = await runningRun(ctx, runRef);
  await update(ctx, client, handle.workflowId, () => handle.executeUpdate(abortUpdate, { args: [{ reason }] }));
  if (ctx.json) console.log(JSON.stringify({ runId: handle.workflowId, aborted: true }));
  else {
    console.log(
      `Run ${handle.workflowId} is being aborted: nothing new starts, the step in progress finishes, then it ends ABORTED; the watermark stays where it was.\n` +
        `  follow: npm run migrate -- status ${handle.workflowId} --watch`,
    );
  }
  return 0;
}
