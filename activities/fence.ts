import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { commitPlain, inTransaction, type Commit } from '../db/transaction';
import { FailureType } from '../contracts';
import { shareLockOfRun } from '../db/staging/locks';

/**
 * A destination COMMIT fenced by the run's pipeline lock (contract 5.1: a cancelled, aborted or
 * replaced run writes nothing after it ends). The run id in migration_lock is the fencing token: a
 * staging transaction holds the run's lock row FOR SHARE while the destination commits. Releasing
 * the lock (finishRun's DELETE) or taking it over (beginRun's FOR UPDATE) waits for that share lock,
 * so every commit of a run comes before its lock is gone; once it is gone (or names another run),
 * the batch's destination transaction rolls back instead. The two databases may be two servers:
 * only this order, not a shared transaction, is what the fence relies on.
 */
export function commitWhileRunHoldsLock(staging: Pool, runId: number): Commit {
  return async (destination) => {
    const client = await staging.connect();
    try {
      await inTransaction(client, async () => {
        if (!(await shareLockOfRun(client, runId))) {
          throw ApplicationFailure.nonRetryable(`run ${runId} no longer holds the pipeline lock: its batch commits nothing`, FailureType.runNotActive);
        }
        await commitPlain(destination);
      });
    } finally {
      client.release();
    }
  };
}
