import { ApplicationFailure } from '@temporalio/workflow';
import { FailureType, MigrationInput, MigrationResult } from '../contracts';
import { registerDecisionHandlers } from './run/decisions';
import { endOnError, reconcileAndFinish, result } from './run/finish';
import { inputProblems } from './run/input';
import { planRun } from './run/plan';
import { registerProgressQuery } from './run/progress';
import { RunState, startExecution } from './run/state';
import { loadBatches } from './run/window';

export { LOAD_ATTEMPTS } from './run/activities';
export type { RunState } from './run/state';

/**
 * One migration run of efz_customer: extract → assign ids → plan (run/plan.ts) → load batches in a
 * sliding window (run/window.ts) → [wait for a decision on failed batches: run/decisions.ts] →
 * reconcile → finish (run/finish.ts). Rows stay in PostgreSQL; this workflow only sees run ids,
 * key-range numbers and counts. Its state is one `Run` (run/state.ts), passed to every part; what a
 * continue-as-new carries is its `RunState`.
 */
export async function customerMigration(input: MigrationInput, carried?: RunState): Promise<MigrationResult> {
  const problems = inputProblems(input ?? ({} as MigrationInput));
  if (problems.length) throw ApplicationFailure.nonRetryable(`invalid input: ${problems.join('; ')}`, FailureType.config);
  const run = startExecution(input, carried);
  registerProgressQuery(run);
  registerDecisionHandlers(run);
  try {
    if (run.progress.runId === null && !(await planRun(run))) return result(run);
    const runId = run.progress.runId!;
    await loadBatches(run, runId);
    return await reconcileAndFinish(run, runId);
  } catch (err) {
    return await endOnError(run, err);
  }
}
