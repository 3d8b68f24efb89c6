/**
 * Statements on migration_lock, one row per pipeline: the run that holds it. beginRun takes it,
 * finishRun releases it, and every destination commit of a batch holds it FOR SHARE (activities/fence.ts).
 */
import type { Pool, PoolClient } from 'pg';

type Db = Pool | PoolClient;

export interface PipelineLock {
  workflowId: string;
  temporalRunId: string;
}

/** Takes the pipeline's lock for an execution when no run holds it; a lock already held stays as it is. */
export async function insertLockIfFree(db: PoolClient, lock: { pipeline: string; workflowId: string; temporalRunId: string }): Promise<void> {
  await db.query(`INSERT INTO migration_lock (pipeline, workflow_id, temporal_run_id) VALUES ($1, $2, $3) ON CONFLICT (pipeline) DO NOTHING`, [
    lock.pipeline,
    lock.workflowId,
    lock.temporalRunId,
  ]);
}

/** The pipeline's lock row, locked FOR UPDATE until the transaction ends (waits for every fenced commit's share lock). */
export async function lockPipelineLock(db: PoolClient, pipeline: string): Promise<PipelineLock> {
  const row = (await db.query(`SELECT workflow_id, temporal_run_id FROM migration_lock WHERE pipeline = $1 FOR UPDATE`, [pipeline])).rows[0];
  return { workflowId: row.workflow_id, temporalRunId: row.temporal_run_id };
}

/** Hands the pipeline's lock to another execution (its previous holder has ended); no run yet. */
export async function takeOverLock(db: PoolClient, lock: { pipeline: string; workflowId: string; temporalRunId: string }): Promise<void> {
  await db.query(`UPDATE migration_lock SET workflow_id = $2, temporal_run_id = $3, run_id = NULL, acquired_at = now() WHERE pipeline = $1`, [
    lock.pipeline,
    lock.workflowId,
    lock.temporalRunId,
  ]);
}

/** Names the run that holds the pipeline's lock: the fencing token of its destination commits. */
export async function setLockRun(db: PoolClient, pipeline: string, runId: number): Promise<void> {
  await db.query(`UPDATE migration_lock SET run_id = $2 WHERE pipeline = $1`, [pipeline, runId]);
}

/** Releases the pipeline's lock if this execution still holds it. */
export async function releaseLock(db: PoolClient, pipeline: string, temporalRunId: string): Promise<void> {
  await db.query(`DELETE FROM migration_lock WHERE pipeline = $1 AND temporal_run_id = $2`, [pipeline, temporalRunId]);
}

/** True when the run still holds its pipeline's lock; the row is then held FOR SHARE until the transaction ends. */
export async function shareLockOfRun(db: PoolClient, runId: number): Promise<boolean> {
  const held = await db.query(`SELECT 1 FROM migration_lock WHERE run_id = $1 FOR SHARE`, [runId]);
  return Boolean(held.rowCount);
}

/** The workflow id holding the pipeline's lock (running or not); null when none does. */
export async function lockHolder(db: Db, pipeline: string): Promise<string | null> {
  const row = (await db.query<{ workflow_id: string }>(`SELECT workflow_id FROM migration_lock WHERE pipeline = $1`, [pipeline])).rows[0];
  return row?.workflow_id ?? null;
}
