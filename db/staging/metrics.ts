/**
 * Staging reads behind the worker's metrics (lib/metrics.ts): what the pipeline's latest run is
 * doing, read when Prometheus scrapes, so every worker of the task queue reports the same state and a
 * restarted worker still knows the last reconciliation. Ids, counts and statuses only: no row values.
 */
import type { Pool, PoolClient } from 'pg';

type Db = Pool | PoolClient;

export type BatchState = 'pending' | 'running' | 'done' | 'failed';

export interface RunOverview {
  /** The pipeline's latest run, or null before the first one. */
  run: { runId: number; mode: string; status: string; phase: string } | null;
  /** The latest run's batches by state (running: an attempt started after the batch last finished). */
  batches: Record<BatchState, number>;
  /** The latest run that recorded a reconciliation: whether it passed, and when it finished (epoch seconds). */
  lastReconciliation: { runId: number; ok: boolean; finishedAtSeconds: number | null } | null;
}

/** The pipeline's latest run, its batches by state and the last reconciliation's result. */
export async function readRunOverview(db: Db, pipeline: string): Promise<RunOverview> {
  const [latest, reconciled] = await Promise.all([
    db.query<{ run_id: number; mode: string; status: string; phase: string; pending: number; running: number; done: number; failed: number }>(
      `SELECT r.run_id, r.mode, r.status, r.phase, b.pending, b.running, b.done, b.failed
         FROM (SELECT run_id, mode, status, phase FROM migration_run WHERE pipeline = $1 ORDER BY run_id DESC LIMIT 1) r
         CROSS JOIN LATERAL (
           SELECT count(*) FILTER (WHERE state = 'pending')::int AS pending, count(*) FILTER (WHERE state = 'running')::int AS running,
                  count(*) FILTER (WHERE state = 'done')::int AS done, count(*) FILTER (WHERE state = 'failed')::int AS failed
             FROM (SELECT CASE WHEN status = 'DONE' THEN 'done'
                               WHEN started_at IS NOT NULL AND (finished_at IS NULL OR started_at > finished_at) THEN 'running'
                               WHEN status = 'FAILED' THEN 'failed'
                               ELSE 'pending' END AS state
                     FROM migration_batch WHERE run_id = r.run_id) s) b`,
      [pipeline],
    ),
    db.query<{ run_id: number; ok: boolean | null; finished: number | null }>(
      `SELECT run_id, (reconciliation->>'ok')::boolean AS ok, extract(epoch FROM finished_at)::float8 AS finished
         FROM migration_run WHERE pipeline = $1 AND reconciliation IS NOT NULL ORDER BY run_id DESC LIMIT 1`,
      [pipeline],
    ),
  ]);
  const r = latest.rows[0];
  const c = reconciled.rows[0];
  return {
    run: r ? { runId: Number(r.run_id), mode: r.mode, status: r.status, phase: r.phase } : null,
    batches: { pending: r?.pending ?? 0, running: r?.running ?? 0, done: r?.done ?? 0, failed: r?.failed ?? 0 },
    lastReconciliation: c ? { runId: Number(c.run_id), ok: c.ok === true, finishedAtSeconds: c.finished } : null,
  };
}
