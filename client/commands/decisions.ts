import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { CliContext } from '../context';
import { resolveWorkflowId } from '../runs';
import { abortUpdate, acceptFailuresUpdate, retryFailedBatchesUpdate } from '../../workflows/definitions';

/** Update failures (a validator's "no failed batches", say) are the operator's to read, in one line. */
async function update<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw Object.assign(new Error(err.cause?.message ?? err.message), { name: 'UsageError' });
    throw err;
  }
}

export async function retryCommand(ctx: CliContext, runRef: string, batches: number[]): Promise<number> {
  const handle = (await ctx.client()).workflow.getHandle(await resolveWorkflowId(ctx, runRef));
  const answer = await update(() => handle.executeUpdate(retryFailedBatchesUpdate, { args: [{ batches }] }));
  if (ctx.json) console.log(JSON.stringify({ runId: handle.workflowId, ...answer }));
  else console.log(`Scheduled ${answer.scheduled.length} batch(es) again: ${answer.scheduled.join(', ')}\n  follow: npm run migrate -- status ${handle.workflowId} --watch`);
  return 0;
}

export async function acceptFailuresCommand(ctx: CliContext, runRef: string): Promise<number> {
  const handle = (await ctx.client()).workflow.getHandle(await resolveWorkflowId(ctx, runRef));
  const answer = await update(() => handle.executeUpdate(acceptFailuresUpdate, { args: [] }));
  if (ctx.json) console.log(JSON.stringify({ runId: handle.workflowId, ...answer }));
  else console.log(`Accepted ${answer.accepted.length} failed batch(es) (${answer.accepted.join(', ')}); the run reconciles and ends COMPLETED_WITH_FAILURES.`);
  return 0;
}

export async function abortCommand(ctx: CliContext, runRef: string, reason?: string): Promise<number> {
  const handle = (await ctx.client()).workflow.getHandle(await resolveWorkflowId(ctx, runRef));
  await update(() => handle.executeUpdate(abortUpdate, { args: [{ reason }] }));
  if (ctx.json) console.log(JSON.stringify({ runId: handle.workflowId, aborted: true }));
  else console.log(`Run ${handle.workflowId} is being aborted; the watermark stays where it was.`);
  return 0;
}
