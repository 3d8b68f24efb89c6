import { ApplicationFailure } from '@temporalio/common';
import { redactSecrets } from '../lib/redact';

/** Failure types the workflow and the CLI recognise. Non-retryable ones need a person, not a retry. */
export const FailureType = {
  data: 'DataError', // a value PostgreSQL refuses (SQLSTATE class 22/23)
  schema: 'SchemaError', // a missing table or column, bad SQL (class 42)
  config: 'ConfigError',
  runActive: 'RunAlreadyActive',
  rejectThreshold: 'RejectThresholdExceeded',
  aborted: 'RunAborted',
  decisionTimeout: 'DecisionTimeout',
} as const;

const NON_RETRYABLE_SQLSTATE_CLASSES: Record<string, string> = {
  '22': FailureType.data,
  '23': FailureType.data,
  '42': FailureType.schema,
  '3D': FailureType.config, // database does not exist
  '28': FailureType.config, // invalid authorisation
};

/**
 * Turns an error from PostgreSQL or our own code into what Temporal should do with it: connection
 * losses, deadlocks, timeouts and shutdowns are retried; bad data, a wrong schema and bad configuration
 * fail at once with a typed, non-retryable failure. Messages never carry a password.
 */
export function classifyError(err: unknown): Error {
  if (err instanceof ApplicationFailure) return err;
  const e = err as { message?: string; code?: string };
  const message = redactSecrets(e?.message ?? String(err));
  const sqlstate = typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
  if (sqlstate) {
    const type = NON_RETRYABLE_SQLSTATE_CLASSES[sqlstate.slice(0, 2)];
    if (type) return ApplicationFailure.nonRetryable(`${message} (SQLSTATE ${sqlstate})`, type);
    return ApplicationFailure.retryable(`${message} (SQLSTATE ${sqlstate})`, 'DatabaseError');
  }
  return ApplicationFailure.retryable(message, (err as Error)?.name ?? 'Error');
}

/** Wraps an activity body so every thrown error is classified. */
export async function classified<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    throw classifyError(err);
  }
}
