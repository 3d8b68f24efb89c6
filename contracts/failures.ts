/**
 * Failure types (ApplicationFailure.type) the workflow and the CLI recognise, raised by the workflow
 * and the activities. Non-retryable ones need a person, not a retry.
 */
export const FailureType = {
  data: 'DataError', // a value PostgreSQL refuses (SQLSTATE class 22/23)
  schema: 'SchemaError', // a missing table or column, bad SQL (class 42)
  config: 'ConfigError',
  /** Any other error PostgreSQL sent: retried. */
  database: 'DatabaseError',
  runActive: 'RunAlreadyActive',
  runNotActive: 'RunNotActive', // an activity of a run that has ended (cancelled, terminated, replaced)
  rejectThreshold: 'RejectThresholdExceeded',
  aborted: 'RunAborted',
  decisionTimeout: 'DecisionTimeout',
} as const;

export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];
