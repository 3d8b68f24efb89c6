/**
 * Statements on migration_issue, the rejects and warnings a batch's load recorded (one row per code,
 * reason and field), read by the report, `rejects`, verify-report and reconciliation.
 */
import type { Pool, PoolClient } from 'pg';
import { copyRows } from '../copy';

type Db = Pool | PoolClient;

/** The codes one batch of a run rejected. */
export async function rejectedCodesOfBatch(db: Db, runId: number, batchNo: number): Promise<number[]> {
  const result = await db.query<{ code: number }>(
    `SELECT customer_code AS code FROM migration_issue WHERE run_id = $1 AND batch_no = $2 AND severity = 'REJECT'`,
    [runId, batchNo],
  );
  return result.rows.map((r) => r.code);
}

/** A run's issues grouped by severity, reason and field: how many, and the five lowest codes. */
export interface IssueGroup {
  severity: 'REJECT' | 'WARNING';
  reason: string;
  field: string | null;
  count: number;
  examples: number[];
}

export async function issueGroupsOfRun(db: Db, runId: number): Promise<IssueGroup[]> {
  const result = await db.query<IssueGroup>(
    `SELECT severity, reason, field, count(*)::int AS count, (array_agg(customer_code ORDER BY customer_code))[1:5] AS examples
     FROM migration_issue WHERE run_id = $1 GROUP BY severity, reason, field ORDER BY severity, count(*) DESC, reason`,
    [runId],
  );
  return result.rows;
}

/** One issue as `rejects` writes it, with the source row as the batch read it. */
export interface IssueRow {
  customer_code: number;
  severity: string;
  reason: string;
  field: string | null;
  value: string | null;
  batch_no: number;
  source_row: unknown;
}

/**
 * A page of a run's issues of the given severities: every issue of the next (at most) 5000 codes
 * after `afterCode`, in code order. Keyset pages over whole codes (a code may have several warnings)
 * keep memory flat.
 */
export async function issuesPageOfRun(db: Db, runId: number, severities: readonly string[], afterCode: number): Promise<IssueRow[]> {
  const page = await db.query<IssueRow>(
    `WITH codes AS (SELECT DISTINCT customer_code FROM migration_issue
                    WHERE run_id = $1 AND severity = ANY($2) AND customer_code > $3::bigint ORDER BY 1 LIMIT 5000)
     SELECT customer_code, severity, reason, field, value, batch_no, source_row FROM migration_issue
     WHERE run_id = $1 AND severity = ANY($2) AND customer_code IN (SELECT customer_code FROM codes)
     ORDER BY customer_code, severity, reason, field`,
    [runId, severities, afterCode],
  );
  return page.rows;
}

/** An issue row's columns, in the order a load's issue rows hold their values. */
export const ISSUE_COLUMNS = ['run_id', 'batch_no', 'customer_code', 'severity', 'reason', 'field', 'value', 'source_row'] as const;

/** Replaces what a batch recorded (inside the caller's transaction) with `issues` (rows in ISSUE_COLUMNS order). */
export async function replaceBatchIssues(db: PoolClient, runId: number, batchNo: number, issues: readonly unknown[][]): Promise<void> {
  await db.query('DELETE FROM migration_issue WHERE run_id = $1 AND batch_no = $2', [runId, batchNo]);
  await copyRows(db, 'migration_issue', ISSUE_COLUMNS, issues);
}

export interface CodeIssue {
  runNumber: number;
  batchNo: number;
  severity: 'REJECT' | 'WARNING';
  reason: string;
  field: string | null;
  value: string | null;
}

/** Every reject and warning any run recorded for the code, oldest run first. */
export async function issuesOfCode(db: Db, code: number): Promise<CodeIssue[]> {
  const result = await db.query(
    `SELECT run_id, batch_no, severity, reason, field, value FROM migration_issue WHERE customer_code = $1 ORDER BY run_id, severity, reason, field`,
    [code],
  );
  return result.rows.map((r) => ({ runNumber: Number(r.run_id), batchNo: r.batch_no, severity: r.severity, reason: r.reason, field: r.field, value: r.value }));
}
