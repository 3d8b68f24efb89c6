import type { PoolClient } from 'pg';

/**
 * Runs `body` inside one REPEATABLE READ READ ONLY transaction on `source`: one snapshot for every
 * statement of it, taken by the first, whose start time (the source's own clock) `body` is given.
 * Committed when `body` returns; on a failure nothing is rolled back here: the caller releases the
 * connection with the error (a connection left inside its snapshot transaction is closed, not pooled).
 */
export async function inSourceSnapshot<T>(source: PoolClient, body: (snapshotAt: string) => Promise<T>): Promise<T> {
  await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  // The first statement takes the snapshot: its start time is the source's clock at that moment.
  const snapshotAt: string = (await source.query('SELECT statement_timestamp() AS at')).rows[0].at;
  const result = await body(snapshotAt);
  await source.query('COMMIT');
  return result;
}
