import { Context } from '@temporalio/activity';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { FailureType } from '../contracts';
import { sqlstateOf } from '../db/errors';
import { errorFields, log, scrubRowValues } from '../lib/log';
import { redactSecrets } from '../lib/redact';

/**
 * SQLSTATE classes that a retry cannot fix. Everything else from PostgreSQL is retried: 08
 * (connection), 40 (serialization failure, deadlock), 53 (insufficient resources), 55 (e.g. a
 * database not accepting connections), 57 (admin shutdown, statement timeout, cancel), XX…
 */
const NON_RETRYABLE_SQLSTATE_CLASSES: Record<string, string> = {
  '22': FailureType.data,
  '23': FailureType.data,
  '42': FailureType.schema,
  '3D': FailureType.config, // database does not exist
  '28': FailureType.config, // invalid authorisation
};

/**
 * The message that may leave the worker: no password, and no customer value. PostgreSQL quotes the
 * offending value in some messages (`invalid input syntax for type integer: "12a"`); a failure's
 * message is stored in the Temporal history, which must never hold customer data, so values are
 * scrubbed here whatever LOG_ROW_VALUES says.
 */
export function failureMessage(err: unknown): string {
  const e = err as { message?: string } | null;
  const raw = typeof e?.message === 'string' ? e.message : String(err);
  return redactSecrets(scrubRowValues(raw));
}

/**
 * Turns an error from PostgreSQL or our own code into what Temporal should do with it: connection
 * losses, deadlocks, timeouts and shutdowns are retried; bad data, a wrong schema and bad configuration
 * fail at once with a typed, non-retryable failure. Messages never carry a password or a customer value.
 */
export function classifyError(err: unknown): Error {
  // Our own typed failures, and cancellations, pass as they are.
  if (err instanceof TemporalFailure) return err;
  const message = failureMessage(err);
  const sqlstate = sqlstateOf(err);
  if (sqlstate !== null) {
    const type = NON_RETRYABLE_SQLSTATE_CLASSES[sqlstate.slice(0, 2)];
    if (type) return ApplicationFailure.nonRetryable(`${message} (SQLSTATE ${sqlstate})`, type);
    return ApplicationFailure.retryable(`${message} (SQLSTATE ${sqlstate})`, FailureType.database);
  }
  // Node's network errors (ECONNREFUSED, ECONNRESET…) and pg's "Connection terminated unexpectedly":
  // retryable, named by their code when they have one.
  const code = (err as { code?: unknown })?.code;
  const type = typeof code === 'string' && /^E[A-Z_]+$/.test(code) ? code : ((err as Error)?.name ?? 'Error');
  return ApplicationFailure.retryable(message, type);
}

/** Ids of an activity's input worth a log line (run, batch), never anything else of it. */
function idsOf(input: unknown): Record<string, unknown> {
  const i = input as { runId?: unknown; batchNo?: unknown } | null;
  const ids: Record<string, unknown> = {};
  if (typeof i?.runId === 'number') ids.runId = i.runId;
  if (typeof i?.batchNo === 'number') ids.batchNo = i.batchNo;
  return ids;
}

/**
 * Wraps an activity body so every thrown error is classified, and logs the failed attempt as one
 * JSON line with the activity, attempt, run id and batch (the error's values only with LOG_ROW_VALUES).
 */
export async function classified<T>(body: () => Promise<T>, input?: unknown): Promise<T> {
  try {
    return await body();
  } catch (err) {
    const failure = classifyError(err);
    let info: { activityType?: string; attempt?: number; workflowExecution?: { workflowId?: string } } = {};
    try {
      info = Context.current().info;
    } catch {
      // called outside an activity (unit tests)
    }
    log('warn', 'activity attempt failed', {
      activity: info.activityType,
      attempt: info.attempt,
      workflowId: info.workflowExecution?.workflowId,
      ...idsOf(input),
      retryable: !(failure instanceof ApplicationFailure && failure.nonRetryable),
      error: errorFields(err),
    });
    throw failure;
  }
}
