import type { Pool, PoolClient } from 'pg';

type Db = Pool | PoolClient;

/** When a run's phases began and ended (epoch ms; null where the run did not get there). */
export interface RunTimes {
  startedMs: number;
  firstBatchStartedMs: number | null;
  lastBatchFinishedMs: number | null;
  reconciledMs: number | null;
  finishedMs: number | null;
}

const ms = (v: number | null): number | null => (v === null ? null : Math.round(Number(v)));

/** The run's start and end, its batches' first start and last finish, and its reconciliation's time. */
export async function runTimes(db: Db, runId: number): Promise<RunTimes> {
  const r = (await db.query(
    `SELECT EXTRACT(EPOCH FROM r.started_at) * 1000 AS started, EXTRACT(EPOCH FROM r.finished_at) * 1000 AS finished,
            EXTRACT(EPOCH FROM (r.reconciliation->>'checkedAt')::timestamptz) * 1000 AS reconciled,
            (SELECT EXTRACT(EPOCH FROM min(started_at)) * 1000 FROM migration_batch WHERE run_id = r.run_id) AS first_batch,
            (SELECT EXTRACT(EPOCH FROM max(finished_at)) * 1000 FROM migration_batch WHERE run_id = r.run_id) AS last_batch
     FROM migration_run r WHERE r.run_id = $1`,
    [runId],
  )).rows[0];
  if (!r) throw Object.assign(new Error(`no run ${runId} in the staging database`), { name: 'UsageError' });
  return { startedMs: ms(r.started)!, firstBatchStartedMs: ms(r.first_batch), lastBatchFinishedMs: ms(r.last_batch), reconciledMs: ms(r.reconciled), finishedMs: ms(r.finished) };
}
