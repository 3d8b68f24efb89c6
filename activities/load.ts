import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { PoolClient } from 'pg';
import { copyBytes, copyIntoTemp, copyRows, ident, qualified, type EncodedLines } from '../db/copy';
import { cancelRequested } from '../lib/heartbeat';
import { log } from '../lib/log';
import { withTransaction } from '../db/transaction';
import { readRunMode } from '../db/staging/metrics';
import type { ActivityDeps } from './deps';
import { FailureType } from '../contracts';
import { createBulkLoad } from './bulk-load';
import { commitWhileRunHoldsLock } from './fence';
import { fingerprintOf } from './fingerprint';
import { mapStagedRange, readBranches, readRunDate } from './staged';
import type { BatchResult } from '../contracts';
import { valueDigests, type PrintedRows } from './value-digest';

/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505';

const ISSUE_COLUMNS = ['run_id', 'batch_no', 'customer_code', 'severity', 'reason', 'field', 'value', 'source_row'] as const;

/** Rejects and warnings of a batch counted by reason code (the issue rows hold severity at 3, reason at 4). */
function issuesByReason(issues: unknown[][]): { rejectsByReason: Map<string, number>; warningsByReason: Map<string, number> } {
  const rejectsByReason = new Map<string, number>();
  const warningsByReason = new Map<string, number>();
  for (const issue of issues) {
    const counts = issue[3] === 'REJECT' ? rejectsByReason : warningsByReason;
    counts.set(issue[4] as string, (counts.get(issue[4] as string) ?? 0) + 1);
  }
  return { rejectsByReason, warningsByReason };
}

/** One planned key range of a run, claimed for loading. */
interface BatchJob {
  runId: number;
  batchNo: number;
  lo: number;
  hi: number;
}

/**
 * One batch = one key range of the run's staged rows. Map them, upsert both destination tables in
 * one destination transaction, then replace the batch's recorded rejects/warnings and result in
 * staging. Re-running a batch any number of times gives the same destination and the same records.
 */
export function createLoadActivities(deps: ActivityDeps) {
  const { pools, mapping, metrics } = deps;
  const bulk = createBulkLoad(deps);
  const dest = mapping.destination;
  const customerTable = qualified(dest.schema, dest.customerTable);
  const profileTable = qualified(dest.schema, dest.profileTable);

  function upsertSql(target: string, temp: string, columns: readonly string[], key: string): string {
    const cols = columns.map(ident);
    const nonKey = columns.filter((c) => c !== key).map(ident);
    // Unchanged rows are not rewritten: re-reading rows (look-back, retries, re-runs) costs no writes.
    return `INSERT INTO ${target} AS t (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM ${temp}
      ON CONFLICT (${ident(key)}) DO UPDATE SET ${nonKey.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}
      WHERE (${nonKey.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM (${nonKey.map((c) => `EXCLUDED.${c}`).join(', ')})`;
  }
  const upsertCustomer = upsertSql(customerTable, 'load_customer', dest.customerColumns, dest.customerKey);
  const upsertProfile = upsertSql(profileTable, 'load_profile', dest.profileColumns, dest.profileKey);

  /**
   * A first load (none of the batch's customers held yet, the whole of a cutover) COPYs the printed
   * bytes straight into both tables: no lookup, temp table or conflict handling. Where the unique
   * keys refuse that, the transaction goes back to its savepoint and splits the batch: customers not
   * held are COPYed, held ones go through a temp table and an upsert. Batches are disjoint key ranges
   * and runs never overlap, so no other writer inserts these ids meanwhile; if one did, the unique key
   * fails the batch and its retry upserts.
   */
  async function writeDestination(runId: number, { ids, customerLines, profileLines }: PrintedRows, keyless: { batchNo: number; attempt: number } | null): Promise<void> {
    await withTransaction(pools.destination, async (client) => {
      // Names the writing run in the transaction (auditing triggers can read it): no customer value.
      await client.query(`SELECT set_config('customer_migration.run_id', $1, true)`, [String(runId)]);
      if (keyless) {
        // The bulk path: the tables have no keys now, the batch replaces exactly its own rows.
        await bulk.replaceBatchRows(client, { runId, ...keyless, ids });
        await copyBytes(client, customerTable, dest.customerColumns, customerLines.all());
        await copyBytes(client, profileTable, dest.profileColumns, profileLines.all());
      } else if (!(await copiedAllNew(client, customerLines, profileLines))) {
        await writeHeldAndNew(client, { ids, customerLines, profileLines });
      }
      // A cancelled batch stops here rather than commit (the run waits for it to stop).
      if (cancelRequested()) throw new CancelledFailure(`batch of run ${runId} cancelled`);
    }, commitWhileRunHoldsLock(pools.staging, runId));
  }

  /** Where the unique keys refused a plain COPY: customers not held are COPYed, held ones upserted. */
  async function writeHeldAndNew(client: PoolClient, { ids, customerLines, profileLines }: Pick<PrintedRows, 'ids' | 'customerLines' | 'profileLines'>): Promise<void> {
    const held = await client.query(`SELECT ${ident(dest.customerKey)}::text AS id FROM ${customerTable} WHERE ${ident(dest.customerKey)} = ANY($1::uuid[])`, [ids]);
    const existing = new Set(held.rows.map((r) => r.id as string));
    const isNew = (i: number) => !existing.has(ids[i]);
    const isHeld = (i: number) => existing.has(ids[i]);
    if (existing.size < ids.length) {
      await copyBytes(client, customerTable, dest.customerColumns, customerLines.selected(isNew));
      await copyBytes(client, profileTable, dest.profileColumns, profileLines.selected(isNew));
    }
    if (existing.size > 0) {
      await copyIntoTemp(client, 'load_customer', customerTable, dest.customerColumns, customerLines.selected(isHeld));
      await client.query(upsertCustomer);
      await copyIntoTemp(client, 'load_profile', profileTable, dest.profileColumns, profileLines.selected(isHeld));
      await client.query(upsertProfile);
    }
  }

  /** COPYs all lines as new rows under a savepoint; false (and nothing written) where a unique key refused them. */
  async function copiedAllNew(client: PoolClient, customerLines: EncodedLines, profileLines: EncodedLines): Promise<boolean> {
    if (customerLines.length === 0) return true;
    await client.query('SAVEPOINT all_new');
    try {
      await copyBytes(client, customerTable, dest.customerColumns, customerLines.all());
      await copyBytes(client, profileTable, dest.profileColumns, profileLines.all());
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      await client.query('ROLLBACK TO SAVEPOINT all_new');
      return false;
    }
    await client.query('RELEASE SAVEPOINT all_new');
    return true;
  }

  /**
   * Reads and maps one key range, and prints the loaded rows as COPY lines in the form PostgreSQL
   * prints the stored values back: the lines are both what is written and, digested, what the
   * reconciliation checks the destination against. Rows are mapped and printed as they arrive, a
   * thousand at a time: only the lines (and the few issues) are ever held for the whole batch.
   */
  async function mapBatch(job: BatchJob) {
    const { runId, batchNo } = job;
    const [branches, runDate, digests] = await Promise.all([readBranches(pools.staging), readRunDate(pools.staging, runId), valueDigests(pools.destination, mapping)]);
    const printer = digests.printer();
    const fingerprint = fingerprintOf(mapping, branches);
    const issues: unknown[][] = [];
    let warned = 0;
    const { staged, byType } = await mapStagedRange(pools.staging, mapping, job, { runDate, branches: branches.lookup, printer }, ({ code, row }, result) => {
      if (result.ok) {
        if (result.warnings.length) warned++;
        for (const w of result.warnings) issues.push([runId, batchNo, code, w.severity, w.reason, w.field, w.value, row]);
      } else {
        const r = result.reject;
        issues.push([runId, batchNo, code, r.severity, r.reason, r.field, r.value, row]);
      }
    });
    return { staged, printed: printer.finish(), issues, byType, warned, fingerprint };
  }

  async function loadBatch({ runId, batchNo }: { runId: number; batchNo: number }): Promise<BatchResult> {
    const started = Date.now();
    // Only a RUNNING run loads: a batch activity left behind by a terminated run must not write
    // over what a newer run loaded.
    const batch = (await pools.staging.query(
      `UPDATE migration_batch b SET attempts = attempts + 1, started_at = now() FROM migration_run r
       WHERE b.run_id = $1 AND b.batch_no = $2 AND r.run_id = b.run_id AND r.status = 'RUNNING' RETURNING b.lo, b.hi, b.attempts`,
      [runId, batchNo],
    )).rows[0];
    if (!batch) throw ApplicationFailure.nonRetryable(`batch ${batchNo} of run ${runId} was never planned, or the run is no longer running`, FailureType.runNotActive);
    const { staged, printed, issues, byType, warned, fingerprint } = await mapBatch({ runId, batchNo, lo: batch.lo, hi: batch.hi });
    await writeDestination(runId, printed, (await bulk.keysDropped(runId)) ? { batchNo, attempt: batch.attempts } : null);
    const loaded = printed.ids.length;
    const result: BatchResult = {
      batchNo,
      staged,
      loaded,
      rejected: staged - loaded,
      warned,
      warnings: issues.length - (staged - loaded),
      byType,
      durationMs: Date.now() - started,
    };
    await withTransaction(pools.staging, async (staging) => {
      await staging.query('DELETE FROM migration_issue WHERE run_id = $1 AND batch_no = $2', [runId, batchNo]);
      await copyRows(staging, 'migration_issue', ISSUE_COLUMNS, issues);
      await staging.query(
        `UPDATE migration_batch SET status = 'DONE', staged = $3, loaded = $4, rejected = $5, warned = $6, by_type = $7,
           expected = $8, fingerprint = $9, error = NULL, finished_at = now() WHERE run_id = $1 AND batch_no = $2`,
        [runId, batchNo, result.staged, result.loaded, result.rejected, result.warned, byType, printed.digest, fingerprint],
      );
    });
    if (metrics) {
      const mode = await metrics.modeOf(runId, () => readRunMode(pools.staging, runId));
      metrics.batchLoaded(mode, { loaded, rejected: result.rejected, warned, durationMs: result.durationMs, ...issuesByReason(issues) });
    }
    log('info', 'batch loaded', { runId, batchNo, staged: result.staged, loaded: result.loaded, rejected: result.rejected, ms: result.durationMs });
    return result;
  }

  return { loadBatch };
}
