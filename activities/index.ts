import type { ActivityDeps } from './deps';
import { heartbeatWhile } from '../lib/heartbeat';
import { createBulkLoad } from './bulk-load';
import { classified } from './errors';
import { createExtractActivities } from './extract';
import { createLoadActivities } from './load';
import { createReconcileActivities } from './reconcile';
import { createRunActivities } from './runs';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- wraps every activity, whatever its signature
type AsyncFn = (...args: any[]) => Promise<any>;

/**
 * Activities whose single long statements (a destination transaction waiting on a lock, assigning
 * ids to millions of codes) could outlast their heartbeat timeout: they heartbeat on a timer while
 * they work. Not for activities that keep progress in their heartbeat details (extract, reconcile).
 */
const KEEP_ALIVE = new Set(['loadBatch', 'assignUuids', 'prepareLoadPath', 'restoreKeys']);

/** Every activity reports its errors classified (retryable or a typed non-retryable failure). */
function withClassifiedErrors<T extends Record<string, AsyncFn>>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      (...args: unknown[]) => classified(() => (KEEP_ALIVE.has(name) ? heartbeatWhile(() => fn(...args)) : fn(...args)), args[0]),
    ]),
  ) as T;
}

/** The activities of a migration run, built from the pools, the compiled mapping and the config. */
export function createActivities(deps: ActivityDeps) {
  return withClassifiedErrors({
    ...createRunActivities(deps),
    ...createExtractActivities(deps),
    ...createLoadActivities(deps),
    ...createReconcileActivities(deps),
    ...(({ prepareLoadPath, restoreKeys }) => ({ prepareLoadPath, restoreKeys }))(createBulkLoad(deps)),
  });
}

export type MigrationActivities = ReturnType<typeof createActivities>;
