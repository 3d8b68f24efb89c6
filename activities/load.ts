import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { PoolClient } from 'pg';
import { copiedAllNew, copyNewRows, heldCustomerIds, nameWritingRun, upsertRows } from '../db/destination/customers';
import { claimBatchAttempt, recordBatchDone } from '../db/staging/batches';
import { replaceBatchIssues } from '../db/staging/issues';
import { cancelRequested } from '../lib/heartbeat';
import { log } from '../lib/log';
import { withTransaction } from '../db/transaction';
import { readRunMode, readRunDate } from '../db/staging/runs';
import type { ActivityDeps } from './deps';
import { FailureType, type BatchResult } from '../contracts';
import { createBulkLoad, type BulkLoad } from './bulk-load';
import { commitWhileRunHoldsLock } from './fence';
import { fingerprintOf } from './fingerprint';
import { mapStagedRange, readBranches } from './staged';
import type { PrintedRows } from '../db/pg-text';
import type { CompiledMapping } from '../mapping/types';
import { valueDigests } from './value-digest';

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

/** What a batch's load works with: the pools, the mapping, the metrics and the bulk path's writes. */
interface LoadDeps extends Pick<ActivityDeps, 'pools' | 'mapping' | 'metrics'> {
  bulk: BulkLoad;
}

/**
 * A first load (none of the batch's customers held yet, the whole of a cutover) COPYs the printed
 * bytes straight into both tables: no lookup, temp table or conflict handling. Where the unique
 * keys refuse that, the transaction goes back to its savepoint and splits the batch: customers not
 * held are COPYed, held ones go through a temp table and an upsert. Batches are disjoint key ranges
 * and runs never overlap, so no other writer inserts these ids meanwhile; if one did, the unique key
 * fails the batch and its retry upserts.
 */
async function writeDestination(
  { pools, mapping, bulk }: LoadDeps,
  runId: number,
  { ids, customerLines, profileLines }: PrintedRows,
  keyless: { batchNo: number; attempt: number } | null,
): Promise<void> {
  const dest = mapping.destination;
  await withTransaction(
    pools.destination,
    async (client) => {
      await nameWritingRun(client, runId);
      if (keyless) {
        // The bulk path: the tables have no keys now, the batch replaces exactly its own rows.
        await bulk.replaceBatchRows(client, { runId, ...keyless, ids });
        await copyNewRows(client, dest, { customerLines: customerLines.all(), profileLines: profileLines.all() });
      } else if (!(await copiedAllNew(client, dest, customerLines, profileLines))) {
        await writeHeldAndNew(dest, client, { ids, customerLines, profileLines });
      }
      // A cancelled batch stops here rather than commit (the run waits for it to stop).
      if (cancelRequested()) throw new CancelledFailure(`batch of run ${runId} cancelled`);
    },
    commitWhileRunHoldsLock(pools.staging, runId),
  );
}

/** Where the unique keys refused a plain COPY: customers not held are COPYed, held ones upserted. */
async function writeHeldAndNew(
  dest: CompiledMapping['destination'],
  client: PoolClient,
  { ids, customerLines, profileLines }: Pick<PrintedRows, 'ids' | 'customerLines' | 'profileLines'>,
): Promise<void> {
  const existing = await heldCustomerIds(client, dest, ids);
  const isNew = (i: number) => !existing.has(ids[i]);
  const isHeld = (i: number) => existing.has(ids[i]);
  if (existing.size < ids.length) {
    await copyNewRows(client, dest, { customerLines: customerLines.selected(isNew), profileLines: profileLines.selected(isNew) });
  }
  if (existing.size > 0) {
    await upsertRows(client, dest, { customerLines: customerLines.selected(isHeld), profileLines: profileLines.selected(isHeld) });
  }
}

/**
 * Reads and maps one key range, and prints the loaded rows as COPY lines in the form PostgreSQL
 * prints the stored values back: the lines are both what is written and, digested, what the
 * reconciliation checks the destination against. Rows are mapped and printed as they arrive, a
 * thousand at a time: only the lines (and the few issues) are ever held for the whole batch.
 */
async function mapBatch({ pools, mapping }: LoadDeps, job: BatchJob) {
  const { runId, batchNo } = job;
  const [branches, runDate, digests] = await Promise.all([
    readBranches(pools.staging),
    readRunDate(pools.staging, runId),
    valueDigests(pools.destination, mapping),
  ]);
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

/** A mapped batch as mapBatch answers it. */
type MappedBatch = Awaited<ReturnType<typeof mapBatch>>;

/** Replaces the batch's recorded rejects/warnings and records its result, in one staging transaction. */
async function recordBatch({ pools }: LoadDeps, runId: number, result: BatchResult, { issues, byType, printed, fingerprint }: MappedBatch): Promise<void> {
  const { batchNo } = result;
  await withTransaction(pools.staging, async (staging) => {
    await replaceBatchIssues(staging, runId, batchNo, issues);
    await recordBatchDone(staging, runId, batchNo, {
      staged: result.staged,
      loaded: result.loaded,
      rejected: result.rejected,
      warned: result.warned,
      byType,
      expected: printed.digest,
      fingerprint,
    });
  });
}

async function loadBatch(deps: LoadDeps, { runId, batchNo }: { runId: number; batchNo: number }): Promise<BatchResult> {
  const { pools, metrics, bulk } = deps;
  const started = Date.now();
  // Only a RUNNING run loads: a batch activity left behind by a terminated run must not write
  // over what a newer run loaded.
  const batch = await claimBatchAttempt(pools.staging, runId, batchNo);
  if (!batch)
    throw ApplicationFailure.nonRetryable(`batch ${batchNo} of run ${runId} was never planned, or the run is no longer running`, FailureType.runNotActive);
  const mapped = await mapBatch(deps, { runId, batchNo, lo: batch.lo, hi: batch.hi });
  const { staged, printed, issues, byType, warned } = mapped;
  await writeDestination(deps, runId, printed, (await bulk.keysDropped(runId)) ? { batchNo, attempt: batch.attempts } : null);
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
  await recordBatch(deps, runId, result, mapped);
  if (metrics) {
    const mode = await metrics.modeOf(runId, () => readRunMode(pools.staging, runId));
    metrics.batchLoaded(mode, { loaded, rejected: result.rejected, warned, durationMs: result.durationMs, ...issuesByReason(issues) });
  }
  log('info', 'batch loaded', { runId, batchNo, staged: result.staged, loaded: result.loaded, rejected: result.rejected, ms: result.durationMs });
  return result;
}

/**
 * One batch = one key range of the run's staged rows. Map them, upsert both destination tables in
 * one destination transaction, then replace the batch's recorded rejects/warnings and result in
 * staging. Re-running a batch any number of times gives the same destination and the same records.
 */
export function createLoadActivities(deps: ActivityDeps) {
  const { pools, mapping, metrics } = deps;
  const load: LoadDeps = { pools, mapping, metrics, bulk: createBulkLoad(deps) };
  return {
    loadBatch: (input: { runId: number; batchNo: number }) => loadBatch(load, input),
  };
}
