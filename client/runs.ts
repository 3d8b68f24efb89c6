import { WorkflowFailedError, WorkflowHandle } from '@temporalio/client';
import type { CliContext } from './context';
import { MigrationInput, MigrationResult, Progress, progressQuery, WORKFLOW_TYPE, searchAttributeKeys } from '../workflows/definitions';
import type { customerMigration } from '../workflows';
import { hasSearchAttributes } from '../lib/temporal';
import { workflowIdOfRun } from '../db/staging/runs';
import { lockHolder } from '../db/staging/locks';

export class RefusedError extends Error {
  override name = 'RefusedError';
}

export function uiLink(ctx: CliContext, workflowId: string): string {
  return `${ctx.config.TEMPORAL_UI_URL.replace(/\/$/, '')}/namespaces/${encodeURIComponent(ctx.config.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** A run is named by its workflow id; the staging run number is accepted too. */
export async function resolveWorkflowId(ctx: CliContext, runRef: string): Promise<string> {
  if (!/^\d+$/.test(runRef)) return runRef;
  const workflowId = await workflowIdOfRun(ctx.staging(), Number(runRef)).catch((err: { code?: string }) => {
    // Staging not migrated yet: no run exists. Anything else (an unreachable database) is the error to show.
    if (err?.code === '42P01') return null;
    throw Object.assign(new Error(`cannot read run ${runRef} from the staging database: ${(err as Error).message}`), { name: 'ServiceError' });
  });
  if (workflowId === null) throw Object.assign(new Error(`no run ${runRef} in the staging database`), { name: 'UsageError' });
  return workflowId;
}

/** The workflow currently holding the pipeline lock, if it is still running. */
export async function activeRun(ctx: CliContext, pipeline: string): Promise<string | null> {
  let holder: string | null;
  try {
    holder = await lockHolder(ctx.staging(), pipeline);
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return null; // staging not migrated yet: no run ever started
    throw err;
  }
  if (!holder) return null;
  const client = await ctx.client();
  try {
    const d = await client.workflow.getHandle(holder).describe();
    return d.status.name === 'RUNNING' ? holder : null;
  } catch {
    return null;
  }
}

export async function startRun(ctx: CliContext, input: MigrationInput, workflowId?: string): Promise<WorkflowHandle<typeof customerMigration>> {
  const pipeline = input.pipeline ?? ctx.config.PIPELINE;
  const active = await activeRun(ctx, pipeline);
  if (active)
    throw new RefusedError(`refused: a run of pipeline ${pipeline} is already in progress (${active}); follow it with: npm run migrate -- status ${active}`);
  const client = await ctx.client();
  const id = workflowId ?? `customer-migration-${input.mode}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const withAttributes = await hasSearchAttributes(client, ctx.config.TEMPORAL_NAMESPACE);
  return client.workflow.start<typeof customerMigration>(WORKFLOW_TYPE, {
    taskQueue: ctx.config.TEMPORAL_TASK_QUEUE,
    workflowId: id,
    args: [input],
    staticSummary: `${input.mode} migration of ${pipeline}`,
    typedSearchAttributes: withAttributes
      ? [
          { key: searchAttributeKeys.mode, value: input.mode },
          { key: searchAttributeKeys.pipeline, value: pipeline },
          { key: searchAttributeKeys.phase, value: 'starting' },
        ]
      : undefined,
  });
}

/** The progress query, or null when no worker answers within a few seconds (callers fall back to staging). */
export async function queryProgress(handle: WorkflowHandle, timeoutMs = 5000): Promise<Progress | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([handle.query(progressQuery), new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)))]);
  } catch {
    return null; // no worker yet, or the workflow is between tasks
  } finally {
    clearTimeout(timer);
  }
}

export type RunOutcome = { ok: true; result: MigrationResult } | { ok: false; error: string; progress: Progress | null };

/** Waits for the run to end, calling `onProgress` about once a second. */
export async function follow(handle: WorkflowHandle<typeof customerMigration>, onProgress: (p: Progress) => void): Promise<RunOutcome> {
  let settled: RunOutcome | undefined;
  const result = handle.result().then(
    (r): RunOutcome => (settled = { ok: true, result: r }),
    (err): RunOutcome =>
      (settled = { ok: false, error: err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : (err as Error).message, progress: null }),
  );
  while (!settled) {
    const p = await queryProgress(handle);
    if (p) onProgress(p);
    await Promise.race([result, new Promise((r) => setTimeout(r, 1000))]);
  }
  const outcome = await result;
  if (!outcome.ok) outcome.progress = await queryProgress(handle);
  return outcome;
}
