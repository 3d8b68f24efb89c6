import { createBulkLoad } from '../../activities/bulk-load';
import { closePools } from '../../db/pools';
import { bootstrap } from '../../worker/bootstrap';
import type { CliContext } from '../context';
import { resolveWorkflowId } from '../runs';
import { latestRunIdOfWorkflow } from '../../db/staging/runs';

/**
 * `repair-constraints <runId>`: rebuilds, by hand, the destination keys a run's bulk load dropped
 * (a run terminated in the middle of its load, a rebuild that failed on duplicates now fixed), the
 * same way the workflow's own step does, and verifies them. Idempotent: a second call changes nothing.
 */
export async function repairConstraintsCommand(ctx: CliContext, runRef: string): Promise<number> {
  const workflowId = await resolveWorkflowId(ctx, runRef);
  const runNumber = await latestRunIdOfWorkflow(ctx.staging(), workflowId);
  if (runNumber === null) throw Object.assign(new Error(`no run ${runRef} in the staging database`), { name: 'UsageError' });
  const { mapping, pools } = await bootstrap(ctx.config);
  try {
    const result = await createBulkLoad({ pools, mapping, config: ctx.config }).restoreKeys({ runId: runNumber });
    if (ctx.json) console.log(JSON.stringify({ runId: workflowId, runNumber: runNumber, ...result }));
    else if (result.outcome === 'none') console.log(`run ${workflowId} took no bulk path: no destination keys were dropped, nothing to rebuild`);
    else if (result.outcome === 'already-restored')
      console.log(`run ${workflowId}: its ${result.keys} destination key(s) were already rebuilt and verified; nothing to do`);
    else console.log(`run ${workflowId}: ${result.keys} destination key(s) rebuilt and verified against the definitions saved before the bulk load`);
    return 0;
  } finally {
    await closePools(pools);
  }
}
