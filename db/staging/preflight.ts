/**
 * The staging tables `migrate preflight` expects. Its reads go through the tables' homes: the
 * watermark (watermarks.ts), the last completed run (runs.ts), codes staged before (customers.ts).
 */
/** The control tables a run writes (the worker creates them with the staging migrations). */
export const STAGING_TABLES = [
  'stg_customer',
  'customer_uuids',
  'branch_map',
  'migration_run',
  'migration_batch',
  'migration_issue',
  'migration_watermark',
  'migration_lock',
  'migration_extract_chunk',
] as const;
