import type { PoolClient } from 'pg';
import { copyRows } from '../copy';

/** migration_issue as a load writes it: each batch's rejects and warnings. */

/** An issue row's columns, in the order a load's issue rows hold their values. */
export const ISSUE_COLUMNS = ['run_id', 'batch_no', 'customer_code', 'severity', 'reason', 'field', 'value', 'source_row'] as const;

/** Replaces what a batch recorded (inside the caller's transaction) with `issues` (rows in ISSUE_COLUMNS order). */
export async function replaceBatchIssues(db: PoolClient, runId: number, batchNo: number, issues: readonly unknown[][]): Promise<void> {
  await db.query('DELETE FROM migration_issue WHERE run_id = $1 AND batch_no = $2', [runId, batchNo]);
  await copyRows(db, 'migration_issue', ISSUE_COLUMNS, issues);
}
