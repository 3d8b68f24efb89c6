import { Context } from '@temporalio/activity';
import { copyOutCustomerIds, customerIdSetDigest, heldCustomerIds } from '../db/destination/customers';
import { differingRows } from '../db/destination/value-check';
import { copyOutSourceCodes, sourceCodeSetDigest } from '../db/source/customers';
import { batchCustomers, type BatchCustomer, readPlannedBatches, type PlannedBatch } from '../db/staging/batches';
import { readRunToReconcile, saveReconciliation, setRunPhase, type RunToReconcile, readRunDate } from '../db/staging/runs';
import {
  countIdsWithoutStagedCode,
  countStagedByRun,
  rejectedLatest,
  type RejectedCustomer,
  stagedCodeSetDigest,
  stagedCodesNotIn,
  withIdsInStaging,
} from '../db/staging/customers';
import { EMPTY_SET, listSetDigest, sameSet, setMinus, setPlus, type SetDigest } from '../db/set-digest';
import { customerUuidSetDigests } from '../db/staging/customer-ids';
import { log } from '../lib/log';
import type { ActivityDeps } from './deps';
import { classifyDifferences, emptyBatchCheck, Findings, reconciliationReport, remapSampled, ValueCheckTally, type BatchCheck } from './reconcile-report';
import { createSourceChecks } from './source-check';
import { mapStagedRange, readBranches, type BranchMap } from './staged';
import type { Reconciliation } from '../contracts';
import { sameDigest, valueDigests } from './value-digest';

const PAGE = 50_000;

type Deps = Pick<ActivityDeps, 'pools' | 'mapping'>;

/** A staged customer: its stable id and source code. */
type Customer = BatchCustomer;

/** What every batch's value check maps with. */
interface MapContext {
  runId: number;
  runDate: string;
  branches: BranchMap;
}

/** Adds to `into` the codes of those customers the destination holds (stale, deleted in source). */
async function addHeld({ pools, mapping }: Deps, customers: readonly Customer[], into: Findings): Promise<void> {
  for (let from = 0; from < customers.length; from += PAGE) {
    const page = customers.slice(from, from + PAGE);
    const heldIds = await heldCustomerIds(
      pools.destination,
      mapping.destination,
      page.map((c) => c.id),
    );
    for (const c of page) if (heldIds.has(c.id)) into.add(c.code);
    if (customers.length > PAGE) Context.current().heartbeat();
  }
}

/**
 * The value check of one batch by re-applying the mapping to its staged rows: their digest against
 * the destination's, and on a difference a row-by-row comparison that names the rows and columns.
 */
async function remapBatch(deps: Deps, { runId, runDate, branches }: MapContext, lo: number, hi: number): Promise<BatchCheck> {
  const { pools, mapping } = deps;
  const digests = await valueDigests(pools.destination, mapping);
  const printer = digests.printer();
  const codeOf = new Map<string, number>();
  const rejected: Customer[] = [];
  const { byType } = await mapStagedRange(pools.staging, mapping, { runId, lo, hi }, { runDate, branches: branches.lookup, printer }, (s, result) => {
    codeOf.set(s.customerId, s.code);
    if (!result.ok) rejected.push({ id: s.customerId, code: s.code });
  });

  const check = emptyBatchCheck(byType);
  await addHeld(deps, rejected, check.stale);
  const printed = printer.finish();
  if (sameDigest(printed.digest, await digests.held(printed.ids))) return check;

  // The digests differ: compare row by row to say which rows and columns.
  const differences = await differingRows(pools.destination, mapping.destination, {
    customerLines: printed.customerLines.all(),
    profileLines: printed.profileLines.all(),
  });
  classifyDifferences(differences, codeOf, check);
  return check;
}

/**
 * The value check of one batch against what its load recorded (migration_batch.expected): the
 * batch's loaded ids (staged minus rejected) must be exactly the rows the destination holds, with
 * the recorded digest. Answers null when anything differs: the caller then re-maps the batch.
 */
async function checkRecorded(deps: Deps, runId: number, batch: PlannedBatch): Promise<BatchCheck | null> {
  const { pools, mapping } = deps;
  if (batch.status !== 'DONE' || !batch.expected || !batch.by_type) return null;
  const { staged, rejectedCodes } = await batchCustomers(pools.staging, runId, { batchNo: batch.batch_no, lo: batch.lo, hi: batch.hi });
  const loadedIds = staged.filter((r) => !rejectedCodes.has(r.code)).map((r) => r.id);
  const rejected = staged.filter((r) => rejectedCodes.has(r.code));
  const recorded = Object.values(batch.by_type).reduce(
    (t, c) => ({ staged: t.staged + c.staged, loaded: t.loaded + c.loaded, rejected: t.rejected + c.rejected }),
    { staged: 0, loaded: 0, rejected: 0 },
  );
  if (recorded.staged !== staged.length || recorded.loaded !== loadedIds.length || recorded.rejected !== rejected.length) return null;

  const digests = await valueDigests(pools.destination, mapping);
  const check = emptyBatchCheck(batch.by_type);
  const [held] = await Promise.all([digests.held(loadedIds), addHeld(deps, rejected, check.stale)]);
  if (!sameDigest(held, batch.expected)) return null;
  return check;
}

/**
 * How many lanes the reconciliation's checks get from a pool of `poolMax` connections: the
 * whole-table checks two lanes where the pool has room (one otherwise), the value check at most
 * `concurrency` of the rest. Each lane holds at most one connection of a pool while it streams, so the
 * long holders never fill a pool and leave the others waiting past its connection timeout.
 */
export function reconcileLanes(poolMax: number, concurrency: number): { wholeTable: 1 | 2; value: number } {
  const wholeTable = poolMax >= 4 ? 2 : 1;
  return { wholeTable, value: Math.max(1, Math.min(concurrency, poolMax - wholeTable)) };
}

/** The value check of every batch, `concurrency` at a time: sampled ones re-mapped, the others against their record. */
async function checkValues(deps: Deps, context: MapContext, batches: readonly PlannedBatch[], fraction: number, concurrency: number): Promise<ValueCheckTally> {
  const tally = new ValueCheckTally({ batches: batches.length, recorded: 0, remappedSample: 0, remappedOnDifference: 0, remapFraction: fraction });
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const b = batches[next++];
      const sample = remapSampled(fraction, b.batch_no);
      const fast = sample ? null : await checkRecorded(deps, context.runId, b);
      const r = fast ?? (await remapBatch(deps, context, b.lo, b.hi));
      tally.add(r, fast ? 'recorded' : sample ? 'remappedSample' : 'remappedOnDifference');
      Context.current().heartbeat({ batchesChecked: next });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return tally;
}

/** The set digest of a long list of ids, PAGE at a time. */
async function pagedDigest(ids: readonly string[], digest: (page: string[]) => Promise<SetDigest>): Promise<SetDigest> {
  let sum = EMPTY_SET;
  for (let from = 0; from < ids.length; from += PAGE) sum = setPlus(sum, await digest(ids.slice(from, from + PAGE)));
  return sum;
}

/** The staged codes' set digest: read once per reconciliation (a scan of the wide staged table), shared by two proofs. */
type StagedCodes = () => Promise<SetDigest>;

/**
 * No orphan can exist when (set digests, db/set-digest.ts) customer_uuids holds ids for exactly the
 * staged codes, and the destination's ids less the rejected customers it still holds are exactly
 * customer_uuids' ids less all rejected customers: every destination id is then a staged code's.
 * A few aggregates instead of streaming every id across; one connection of each pool at a time.
 */
async function noOrphansByDigest({ pools, mapping }: Deps, rejected: readonly RejectedCustomer[], stagedCodes: StagedCodes): Promise<boolean> {
  const rejectedIds = rejected.map((r) => r.id);
  const stagingSide = async () => ({
    uuids: await customerUuidSetDigests(pools.staging),
    codes: await stagedCodes(),
    rejected: await pagedDigest(rejectedIds, (page) => listSetDigest(pools.staging, page)),
  });
  const destinationSide = async () => ({
    held: await customerIdSetDigest(pools.destination, mapping.destination),
    heldRejected: await pagedDigest(rejectedIds, (page) => customerIdSetDigest(pools.destination, mapping.destination, page)),
  });
  const [staging, destination] = await Promise.all([stagingSide(), destinationSide()]);
  return (
    sameSet(staging.uuids.codes, staging.codes) &&
    sameSet(setMinus(destination.held, destination.heldRejected), setMinus(staging.uuids.customerIds, staging.rejected))
  );
}

/**
 * Destination customers whose id belongs to no staged code: none when the set digests agree,
 * otherwise counted exactly (every destination id streamed into staging and anti-joined there).
 */
async function findOrphans(deps: Deps, rejected: readonly RejectedCustomer[], stagedCodes: StagedCodes): Promise<Findings> {
  const { pools, mapping } = deps;
  const orphans = new Findings();
  if (await noOrphansByDigest(deps, rejected, stagedCodes)) {
    orphans.via = 'set digests';
    return orphans;
  }
  orphans.count = await withIdsInStaging(
    pools.destination,
    pools.staging,
    (c) => copyOutCustomerIds(c, mapping.destination),
    { temp: 'rec_destination_ids', type: 'uuid' },
    (staging) => {
      Context.current().heartbeat();
      return countIdsWithoutStagedCode(staging);
    },
  );
  return orphans;
}

/**
 * Staged codes gone from the source that the destination still holds (never deleted there): none
 * when the staged codes and the source's are the same set (digests), otherwise found exactly.
 */
async function findDeletedInSource(deps: Deps, stagedCodes: StagedCodes): Promise<Findings> {
  const { pools, mapping } = deps;
  const deleted = new Findings();
  const [source, staged] = await Promise.all([sourceCodeSetDigest(pools.source, mapping), stagedCodes()]);
  if (sameSet(source, staged)) {
    deleted.via = 'set digests';
    return deleted;
  }
  const gone = await withIdsInStaging(
    pools.source,
    pools.staging,
    (c) => copyOutSourceCodes(c, mapping),
    { temp: 'rec_source_codes', type: 'integer' },
    (staging) => {
      Context.current().heartbeat();
      return stagedCodesNotIn(staging);
    },
  );
  await addHeld(deps, gone, deleted);
  return deleted;
}

/**
 * Stale customers that this run did not re-read: their latest staged row (extracted by an earlier
 * run) was rejected there, yet the destination holds them. Contract section 5 lists a stale
 * customer until a valid row arrives, not only in the run that rejected it.
 */
async function findStaleFromEarlierRuns(deps: Deps, runId: number, rejected: readonly RejectedCustomer[]): Promise<Findings> {
  const stale = new Findings();
  await addHeld(
    deps,
    rejected.filter((r) => r.runId !== runId),
    stale,
  );
  return stale;
}

/**
 * The end-of-run proof (contract section 5): counts per customer type, ids against customer_uuids,
 * no orphan destination rows, and a value check: every batch's destination rows against the digest
 * its load recorded, and a sample of batches (all of any batch that differs) mapped again from
 * staging and compared with what the destination holds. The report is built from what the checks
 * found by reconciliationReport (activities/reconcile-report.ts).
 */
export function createReconcileActivities({ pools, mapping, config }: ActivityDeps) {
  const deps: Deps = { pools, mapping };
  const sourceChecks = createSourceChecks(deps);

  /** The share of batches re-mapped whatever their digests say: the run's setting, else the worker's. */
  const remapFraction = (run: RunToReconcile) => Number(run?.settings?.reconcileRemapFraction ?? config.RECONCILE_REMAP_FRACTION);

  async function reconcile({ runId, concurrency }: { runId: number; concurrency: number }): Promise<Reconciliation> {
    await setRunPhase(pools.staging, runId, 'reconciling');
    const [runDate, branches, batches, staged, run] = await Promise.all([
      readRunDate(pools.staging, runId),
      readBranches(pools.staging),
      readPlannedBatches(pools.staging, runId),
      countStagedByRun(pools.staging, runId),
      readRunToReconcile(pools.staging, runId),
    ]);
    const fraction = remapFraction(run);
    const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      const started = Date.now();
      const result = await work();
      log('debug', 'reconciliation step done', { runId, step: name, ms: Date.now() - started });
      return result;
    };
    // The whole-table checks run alongside the per-batch value check (they all only read), in one or
    // two lanes of their own (reconcileLanes): each holds a staging connection for as long as it
    // streams, minutes at 10M rows.
    const lanes = reconcileLanes(config.PG_POOL_MAX, concurrency);
    let stagedCodesRead: Promise<SetDigest> | undefined;
    const stagedCodes = () => (stagedCodesRead ??= stagedCodeSetDigest(pools.staging));
    const laneA = async () => {
      const rejected = await timed('rejected customers', () => rejectedLatest(pools.staging));
      return {
        orphans: await timed('orphans', () => findOrphans(deps, rejected, stagedCodes)),
        staleEarlier: await timed('stale from earlier runs', () => findStaleFromEarlierRuns(deps, runId, rejected)),
        futureDated: await timed('future-dated', () => sourceChecks.futureDated(runId)),
      };
    };
    const laneB = async () => ({
      deletedInSource: await timed('deleted in source', () => findDeletedInSource(deps, stagedCodes)),
      againstSource: await timed('staged against the source', () => sourceChecks.stagedEqualsSource(runId, run.mode, run.extraction)),
      fingerprints: await timed('fingerprints', () => sourceChecks.oneFingerprint(runId, run.fingerprint, branches)),
    });
    const wholeTableChecks = async () => {
      const [a, b] = lanes.wholeTable === 2 ? await Promise.all([laneA(), laneB()]) : [await laneA(), await laneB()];
      return { ...a, ...b };
    };
    const [values, { orphans, deletedInSource, staleEarlier, againstSource, futureDated, fingerprints }] = await Promise.all([
      timed('value check', () => checkValues(deps, { runId, runDate, branches }, batches, fraction, lanes.value)),
      wholeTableChecks(),
    ]);
    const reconciliation = reconciliationReport({
      run,
      staged,
      batches,
      recomputed: values.recomputed,
      found: values.found,
      valueCheck: values.coverage,
      orphans,
      deletedInSource,
      staleEarlier,
      againstSource,
      futureDated,
      fingerprints,
      checkedAt: new Date().toISOString(),
    });
    await saveReconciliation(pools.staging, runId, reconciliation);
    log('info', 'reconciliation done', { runId, ok: reconciliation.ok, stale: reconciliation.stale.count, deletedInSource: deletedInSource.count });
    return reconciliation;
  }

  return { reconcile };
}
