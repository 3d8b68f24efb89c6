/**
 * Staging facts of `migrate preflight`: the control tables a run needs, and which codes were staged
 * before (for reused codes). Read-only. The watermark and the last completed run are read through
 * db/staging/watermarks.ts and db/staging/runs.ts, the homes of those tables.
 */
import type { Pool, PoolClient } from 'pg';

type Db = Pool | PoolClient;

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

/** Which of `codes` are staged already (by an earlier run), lowest first. */
export async function readStagedCodes(db: Db, codes: readonly number[]): Promise<number[]> {
  if (!codes.length) return [];
  const result = await db.query(`SELECT customer_code FROM stg_customer WHERE customer_code = ANY($1::int[]) ORDER BY customer_code`, [codes]);
  return result.rows.map((r) => Number(r.customer_code));
}
