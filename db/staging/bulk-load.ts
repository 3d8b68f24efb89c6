import type { Pool, PoolClient } from 'pg';
import type { TableKey } from '../destination/keys';

/**
 * migration_bulk_load: a run's bulk path, one row per run that took it: the destination keys saved
 * before they were dropped, and their state (DROPPING, DROPPED, RESTORED, FAILED).
 */

type Db = Pool | PoolClient;

export type BulkLoadState = 'DROPPING' | 'DROPPED' | 'RESTORED' | 'FAILED';

export interface SavedKeys {
  schema_name: string;
  keys: TableKey[];
  state: BulkLoadState;
}

export async function readBulkLoadState(db: Db, runId: number): Promise<BulkLoadState | undefined> {
  const { rows } = await db.query(`SELECT state FROM migration_bulk_load WHERE run_id = $1`, [runId]);
  return rows[0]?.state;
}

/** Saves the key definitions before anything is dropped, once: a later save of the same run keeps the first. */
export async function saveKeysOnce(db: Db, runId: number, schema: string, keys: readonly TableKey[]): Promise<void> {
  await db.query(`INSERT INTO migration_bulk_load (run_id, schema_name, keys, state) VALUES ($1, $2, $3, 'DROPPING') ON CONFLICT (run_id) DO NOTHING`, [
    runId,
    schema,
    JSON.stringify(keys),
  ]);
}

export async function readSavedKeyList(db: Db, runId: number): Promise<TableKey[]> {
  return (await db.query(`SELECT keys FROM migration_bulk_load WHERE run_id = $1`, [runId])).rows[0].keys as TableKey[];
}

/** What the run saved (undefined: it never took the bulk path). */
export async function readSavedKeys(db: Db, runId: number): Promise<SavedKeys | undefined> {
  return (await db.query(`SELECT schema_name, keys, state FROM migration_bulk_load WHERE run_id = $1`, [runId])).rows[0];
}

export async function markKeysDropped(db: Db, runId: number): Promise<void> {
  await db.query(`UPDATE migration_bulk_load SET state = 'DROPPED', dropped_at = now() WHERE run_id = $1`, [runId]);
}

export async function markKeysFailed(db: Db, runId: number, error: string): Promise<void> {
  await db.query(`UPDATE migration_bulk_load SET state = 'FAILED', error = $2 WHERE run_id = $1`, [runId, error]);
}

export async function markKeysRestored(db: Db, runId: number): Promise<void> {
  await db.query(`UPDATE migration_bulk_load SET state = 'RESTORED', restored_at = now(), error = NULL WHERE run_id = $1`, [runId]);
}

/** Runs other than `runId`, no longer RUNNING, whose keys are not rebuilt: left dropped by a run that was terminated. */
export async function runsWithKeysLeftDropped(db: Db, runId: number): Promise<number[]> {
  const { rows } = await db.query(
    `SELECT b.run_id FROM migration_bulk_load b JOIN migration_run r USING (run_id)
       WHERE b.run_id <> $1 AND b.state <> 'RESTORED' AND r.status <> 'RUNNING' ORDER BY b.run_id`,
    [runId],
  );
  return rows.map((r) => Number(r.run_id));
}
