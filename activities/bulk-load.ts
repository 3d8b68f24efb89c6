import { ApplicationFailure } from '@temporalio/common';
import type { PoolClient } from 'pg';
import { deleteCustomerRows, lockBatchWrites } from '../db/destination/customers';
import {
  analyzeTables,
  bulkObstacles,
  dropKeys,
  duplicateKeys,
  keyDifferences,
  lockTablesNoWait,
  readKeys,
  readReferencingKeys,
  rebuildKeys,
  type TableKey,
} from '../db/destination/keys';
import {
  markKeysDropped,
  markKeysFailed,
  markKeysRestored,
  readBulkLoadState,
  readSavedKeyList,
  readSavedKeys,
  runsWithKeysLeftDropped,
  saveKeysOnce,
} from '../db/staging/bulk-load';
import { readBatchAttempts } from '../db/staging/batches';
import { readLoadPath, recordLoadPath, readRunMode } from '../db/staging/runs';
import { withTransaction } from '../db/transaction';
import { log } from '../lib/log';
import type { ActivityDeps } from './deps';
import { FailureType } from '../contracts';
import { commitWhileRunHoldsLock } from './fence';

/** SQLSTATE unique_violation, foreign_key_violation, lock_not_available. */
const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';
const LOCK_NOT_AVAILABLE = '55P03';

export interface LoadPath {
  path: 'bulk' | 'upsert';
  reason: string;
}

export interface RestoreResult {
  /** What was done: nothing saved for the run, already rebuilt, or rebuilt now. */
  outcome: 'none' | 'already-restored' | 'restored';
  keys: number;
}

type Deps = Pick<ActivityDeps, 'pools' | 'mapping' | 'config'>;

/** What the bulk path works with: the pools, the mapping, the config, and the destination's schema and two tables. */
interface BulkDeps extends Deps {
  schema: string;
  tables: string[];
}

/** Whether the run's keys are dropped right now (its batches then replace their rows by id). */
async function keysDropped({ pools }: BulkDeps, runId: number): Promise<boolean> {
  return (await readBulkLoadState(pools.staging, runId)) === 'DROPPED';
}

/** Why this run takes the upsert path (null: it may take the bulk path). */
async function upsertReason({ pools, config, schema, tables }: BulkDeps, runId: number): Promise<string | null> {
  if (config.BULK_LOAD === 'off') return 'BULK_LOAD=off';
  if ((await readRunMode(pools.staging, runId)) !== 'full') return 'an incremental run upserts into the loaded tables';
  const referencing = await readReferencingKeys(pools.destination, schema, tables);
  if (referencing.length) return `other tables reference the destination tables (${referencing.join(', ')})`;
  const obstacles = await bulkObstacles(pools.destination, schema, tables);
  return obstacles.length ? obstacles.join('; ') : null;
}

async function recordPath({ pools }: BulkDeps, runId: number, path: LoadPath): Promise<LoadPath> {
  await recordLoadPath(pools.staging, runId, path);
  log('info', 'load path chosen', { runId, path: path.path, reason: path.reason });
  return path;
}

/**
 * Decides the run's load path, once (a retry answers what was decided), and for the bulk path
 * saves the key definitions in staging, then drops them in one destination transaction that
 * first takes both tables' locks (NOWAIT: a session using them sends the run down the upsert
 * path) and checks them still empty. Keys a terminated earlier run left dropped are rebuilt first.
 */
async function prepareLoadPath(deps: BulkDeps, { runId }: { runId: number }): Promise<LoadPath> {
  const { pools, schema, tables } = deps;
  const decided = await readLoadPath<LoadPath>(pools.staging, runId);
  if (decided) return decided;
  await restoreLeftBehind(deps, runId);
  const reason = await upsertReason(deps, runId);
  if (reason) {
    // A retry may find keys an earlier attempt of this run dropped before it was lost: back first.
    await restoreKeys(deps, { runId });
    return recordPath(deps, runId, { path: 'upsert', reason });
  }

  // Saved once: a retry after the keys were dropped (a worker lost before it recorded so) must not
  // save the catalog again, which no longer holds them; it goes on with the first save.
  await saveKeysOnce(pools.staging, runId, schema, await readKeys(pools.destination, schema, tables));
  const keys = await readSavedKeyList(pools.staging, runId);
  const refused = await dropSavedKeys(deps, runId, keys);
  if (refused) return refused;
  await markKeysDropped(pools.staging, runId);
  return recordPath(deps, runId, { path: 'bulk', reason: `both destination tables were empty: ${keys.length} key(s) dropped, rebuilt after the load` });
}

/**
 * Drops the saved keys in one fenced destination transaction that first locks both tables (NOWAIT)
 * and checks them still empty. Answers the upsert path where a lock or a late obstacle refuses
 * that (after undoing an earlier attempt's drop), else null: the keys are dropped.
 */
async function dropSavedKeys(deps: BulkDeps, runId: number, keys: TableKey[]): Promise<LoadPath | null> {
  const { pools, schema, tables } = deps;
  try {
    // Fenced like a batch: a prepare left behind by an ended run drops nothing.
    await withTransaction(
      pools.destination,
      async (db) => {
        await lockTablesNoWait(db, schema, tables);
        const late = await bulkObstacles(db, schema, tables);
        if (late.length) throw Object.assign(new Error(late.join('; ')), { code: 'BULK_OBSTACLE' });
        await dropKeys(db, schema, keys);
      },
      commitWhileRunHoldsLock(pools.staging, runId),
    );
    return null;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== LOCK_NOT_AVAILABLE && code !== 'BULK_OBSTACLE') throw err; // retried: the saved definitions stay
    await restoreKeys(deps, { runId }); // nothing dropped by this attempt; an earlier one's drop is undone
    return recordPath(deps, runId, {
      path: 'upsert',
      reason: code === LOCK_NOT_AVAILABLE ? 'another session holds a lock on the destination tables' : (err as Error).message,
    });
  }
}

/** Keys dropped by an earlier run that ended without rebuilding them (terminated): rebuilt before anything else. */
async function restoreLeftBehind(deps: BulkDeps, runId: number): Promise<void> {
  for (const earlierRunId of await runsWithKeysLeftDropped(deps.pools.staging, runId)) {
    log('warn', 'rebuilding the keys an earlier run left dropped', { runId, earlierRunId });
    await restoreKeys(deps, { runId: earlierRunId });
  }
}

/**
 * Rebuilds the keys a run dropped, idempotently, and verifies them against the saved definitions.
 * A rebuild that fails on the data (a duplicate key, a profile without its customer) fails for
 * good, naming the key and the first values; the definitions stay saved for `repair-constraints`.
 */
async function restoreKeys(deps: BulkDeps, { runId }: { runId: number }): Promise<RestoreResult> {
  const { pools } = deps;
  const saved = await readSavedKeys(pools.staging, runId);
  if (!saved) return { outcome: 'none', keys: 0 };
  const keys = saved.keys;
  if (saved.state === 'RESTORED') return { outcome: 'already-restored', keys: keys.length };
  try {
    await rebuildKeys(() => pools.destination.connect(), saved.schema_name, keys, 2);
  } catch (err) {
    const code = (err as { code?: string; constraint?: string }).code;
    if (code !== UNIQUE_VIOLATION && code !== FOREIGN_KEY_VIOLATION) throw err; // retried
    const message = await rebuildFailure(deps, saved.schema_name, keys, err as { constraint?: string; message: string });
    await markKeysFailed(pools.staging, runId, message);
    throw ApplicationFailure.nonRetryable(message, FailureType.data);
  }
  const differences = keyDifferences(keys, await readKeys(pools.destination, saved.schema_name, [...new Set(keys.map((k) => k.table))]));
  if (differences.length) {
    const message = `the destination's keys after the rebuild differ from those saved before the bulk load: ${differences.join('; ')}`;
    await markKeysFailed(pools.staging, runId, message);
    throw ApplicationFailure.nonRetryable(message, FailureType.schema);
  }
  // Fresh statistics for the tables that were empty when last analysed: the reconciliation's
  // lookups by id and every later run are planned on them.
  await analyzeTables(pools.destination, saved.schema_name, [...new Set(keys.map((k) => k.table))]);
  await markKeysRestored(pools.staging, runId);
  log('info', 'destination keys rebuilt and verified', { runId, keys: keys.length });
  return { outcome: 'restored', keys: keys.length };
}

async function rebuildFailure({ pools }: BulkDeps, schemaName: string, keys: TableKey[], err: { constraint?: string; message: string }): Promise<string> {
  const key = keys.find((k) => k.name === err.constraint) ?? keys.find((k) => err.message.includes(`"${k.name}"`));
  if (!key) return `rebuilding the destination keys failed: ${err.message}`;
  if (key.kind === 'foreign') return `rebuilding ${key.table}.${key.name} (${key.definition}) failed: rows without their referenced row`;
  const values = await duplicateKeys(pools.destination, schemaName, key);
  return `rebuilding ${key.table}.${key.name} (${key.definition}) failed: duplicate values, first ${values.length}: ${values.join(', ')}`;
}

/** One attempt's write of a batch while the keys are dropped. */
interface KeylessWrite {
  runId: number;
  batchNo: number;
  attempt: number;
  ids: readonly string[];
}

/**
 * A batch's write while the keys are dropped: no ON CONFLICT without unique indexes, so a batch
 * replaces exactly its own rows. Attempts of one batch are serialised by an advisory lock; an
 * attempt superseded by a later one writes nothing; a later attempt first deletes what an earlier
 * one may have committed (a scan of the key-less table, only on a retry).
 */
async function replaceBatchRows({ pools, mapping }: BulkDeps, db: PoolClient, { runId, batchNo, attempt, ids }: KeylessWrite): Promise<void> {
  await lockBatchWrites(db, runId, batchNo);
  const latest = await readBatchAttempts(pools.staging, runId, batchNo);
  if (latest !== attempt)
    throw ApplicationFailure.nonRetryable(`attempt ${attempt} of batch ${batchNo} was superseded by attempt ${latest}`, FailureType.runNotActive);
  if (attempt > 1 && ids.length) {
    await deleteCustomerRows(db, mapping.destination, ids);
  }
}

/**
 * The bulk path of a cutover's first load (the way pgloader and DMS full loads work): a full run
 * that finds both destination tables empty loads them without their primary, unique and foreign
 * keys, and rebuilds them once at the end. Safe on a bank's database: decided per run and recorded;
 * the definitions are saved in staging before anything is dropped; rebuilt by a workflow step that
 * runs whatever ends the run (and by `migrate repair-constraints`); the rebuild is verified against
 * the saved definitions; a rebuild that fails names the key and its first duplicate values.
 */
export function createBulkLoad({ pools, mapping, config }: Deps) {
  const deps: BulkDeps = {
    pools,
    mapping,
    config,
    schema: mapping.destination.schema,
    tables: [mapping.destination.customerTable, mapping.destination.profileTable],
  };
  return {
    keysDropped: (runId: number) => keysDropped(deps, runId),
    prepareLoadPath: (input: { runId: number }) => prepareLoadPath(deps, input),
    restoreKeys: (input: { runId: number }) => restoreKeys(deps, input),
    replaceBatchRows: (db: PoolClient, write: KeylessWrite) => replaceBatchRows(deps, db, write),
  };
}

export type BulkLoad = ReturnType<typeof createBulkLoad>;
