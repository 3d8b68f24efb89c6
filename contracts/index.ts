/**
 * The contracts shared by the workflow, the activities and the CLI: what crosses the workflow/activity
 * boundary (ids, key ranges and counts, never rows), what a run shows, and the failure-type names.
 * Pure: the workflow bundle imports it, so nothing here may touch Node.
 */
export * from './batch';
export * from './duration';
export * from './extraction';
export * from './failures';
export * from './progress';
export * from './reconciliation';
export * from './run';
