import type { Pool, PoolClient } from 'pg';

/** branch_map: the bank's branch reference data, small, read whole. */

export interface BranchRow {
  branch_code: string;
  branch_id: string;
  branch_name: string;
}

/** Every branch, in code order by bytes (the order its digest is taken in). */
export async function readBranchRows(db: Pool | PoolClient): Promise<BranchRow[]> {
  const result = await db.query<BranchRow>('SELECT branch_code, branch_id::text, branch_name FROM branch_map ORDER BY branch_code COLLATE "C"');
  return result.rows;
}
