import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { MigrationActivities } from '../../activities';

/** The activity stubs the workflow calls, each with the timeouts and retries its work needs. */

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' } as const;

export const control = proxyActivities<MigrationActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { ...retry, maximumAttempts: 10 },
});
export const bulk = proxyActivities<MigrationActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '2 minutes',
  retry: { ...retry, maximumAttempts: 10 },
});
/** A key rebuild that may wait for later: three attempts, a few seconds. */
export const rebuildSoon = proxyActivities<MigrationActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '2 minutes',
  retry: { ...retry, maximumAttempts: 3 },
});
/** Default attempts of one batch load (input.loadAttempts overrides): 1+2+4+8 s of backoff, ~15 s. */
export const LOAD_ATTEMPTS = 5;
export const batchActivities = (attempts: number) =>
  proxyActivities<MigrationActivities>({
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: '30 seconds', // a killed worker's batches are retried elsewhere within 30 s (loadBatch heartbeats every few seconds)
    retry: { ...retry, maximumAttempts: attempts },
    // A cancelled run waits for its in-flight batches to stop before it releases the pipeline lock
    // (their destination commit is fenced by that lock as well: activities/load.ts).
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
