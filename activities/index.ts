import type { ActivityDeps } from './deps';
import { classified } from './errors';
import { createExtractActivities } from './extract';
import { createLoadActivities } from './load';
import { createReconcileActivities } from './reconcile';
import { createRunActivities } from './runs';

type AsyncFn = (...args: any[]) => Promise<any>;

/** Every activity reports its errors classified (retryable or a typed non-retryable failure). */
function withClassifiedErrors<T extends Record<string, AsyncFn>>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [name, (...args: unknown[]) => classified(() => fn(...args))]),
  ) as T;
}

/** The activities of a migration run, built from the pools, the compiled mapping and the config. */
export function createActivities(deps: ActivityDeps) {
  const { setPhase: _setPhase, ...runs } = createRunActivities(deps);
  return withClassifiedErrors({
    ...runs,
    ...createExtractActivities(deps),
    ...createLoadActivities(deps),
    ...createReconcileActivities(deps),
  });
}

export type MigrationActivities = ReturnType<typeof createActivities>;
