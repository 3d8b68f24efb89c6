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

/** Inserts the branches, replacing the id and name of codes already held; answers the rows written. */
export async function upsertBranchRows(db: Pick<PoolClient, 'query'>, branches: readonly BranchRow[]): Promise<number | null> {
  const result = await db.query(
    `INSERT INTO branch_map (branch_code, branch_id, branch_name)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[])
       ON CONFLICT (branch_code) DO UPDATE SET branch_id = EXCLUDED.branch_id, branch_name = EXCLUDED.branch_name`,
    [branches.map((b) => b.branch_code), branches.map((b) => b.branch_id), branches.map((b) => b.branch_name)],
  );
  return result.rowCount;
}
