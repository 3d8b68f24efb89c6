import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { escapeLiteral, type Pool, type PoolClient } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { copyIntoTemp, ident, qualified } from '../db/copy';
import { log } from '../lib/log';
import { withTransaction } from '../db/transaction';
import { batchCustomers, type BatchCustomer } from '../db/staging/batches';
import type { ActivityDeps } from './deps';
import { createSourceChecks } from './source-check';
import { mapStagedRange, readBranches, readRunDate, type BranchMap } from './staged';
import type { Reconciliation, ReconciliationCheck, TypeCounts } from '../contracts';
import { sameDigest, valueDigests, type BatchDigest } from './value-digest';

const EXAMPLES = 20;
const PAGE = 50_000;

/** A staged customer: its stable id and source code. */
type Customer = BatchCustomer;

interface PlannedBatch {
  batch_no: number;
  lo: number;
  hi: number;
  status: string;
  by_type: Record<string, TypeCounts> | null;
  expected: BatchDigest | null;
}

interface BatchCheck {
  byType: Record<string, TypeCounts>;
  missing: Findings;
  wrongIds: Findings;
  mismatched: Findings;
  stale: Findings;
  mismatchedColumns: Set<string>;
}

/** Collects a count and the first few customer codes of something worth showing the operator. */
class Findings {
  count = 0;
  readonly examples: number[] = [];
  add(code: number): void {
    this.count++;
    if (this.examples.length < EXAMPLES) this.examples.push(code);
  }
}

function addCounts(into: Record<string, TypeCounts>, from: Record<string, TypeCounts>): void {
  for (const [type, c] of Object.entries(from)) {
    const t = (into[type] ??= { staged: 0, loaded: 0, rejected: 0 });
    t.staged += c.staged;
    t.loaded += c.loaded;
    t.rejected += c.rejected;
  }
}

/**
 * The end-of-run proof (contract section 5): counts per customer type, ids against customer_uuids,
 * no orphan destination rows, and a value check: every batch's destination rows against the digest
 * its load recorded, and a sample of batches (all of any batch that differs) mapped again from
 * staging and compared with what the destination holds.
 */
export function createReconcileActivities({ pools, mapping, config }: ActivityDeps) {
  const dest = mapping.destination;
  const customerTable = qualified(dest.schema, dest.customerTable);
  const profileTable = qualified(dest.schema, dest.profileTable);

  // The value check runs inside the destination: expected rows go into temp tables shaped like the
  // real ones and PostgreSQL compares them with its own equality (jsonb, timestamptz, uuid), so no
  // destination row has to be parsed here and only differing rows come back.
  const differs = (a: string, b: string, columns: readonly string[]) =>
    `(${columns.map((c) => `${a}.${ident(c)}`).join(', ')}) IS DISTINCT FROM (${columns.map((c) => `${b}.${ident(c)}`).join(', ')})`;
  const key = ident(dest.customerKey);
  const sourceChecks = createSourceChecks({ pools, mapping });
  /** Rows of one temp table of expected rows that the destination lacks or holds otherwise. */
  const compareSql = (temp: string, table: string, tableName: string, columns: readonly string[], joinOn: string, extra: string) => `
    SELECT e."customerId"::text AS id, t."customerId" IS NULL AS missing, ${extra},
           array_remove(ARRAY[${columns.map((c) => `CASE WHEN t.${ident(c)} IS DISTINCT FROM e.${ident(c)} THEN ${escapeLiteral(`${tableName}.${c}`)} END`).join(', ')}], NULL) AS columns
    FROM ${temp} e LEFT JOIN ${table} t ON t.${joinOn} = e.${joinOn}
    WHERE t."customerId" IS NULL OR ${differs('t', 'e', columns)}`;
  const compareCustomers = compareSql('rec_customer', customerTable, dest.customerTable, dest.customerColumns, key, 'false AS wrong_id');
  const compareProfiles = compareSql('rec_profile', profileTable, dest.profileTable, dest.profileColumns, '"customerId"',
    `t.${ident(dest.profileKey)} IS DISTINCT FROM e.${ident(dest.profileKey)} AS wrong_id`);

  /** Adds to `into` the codes of those customers the destination holds (stale, deleted in source). */
  async function addHeld(customers: readonly Customer[], into: Findings): Promise<void> {
    for (let from = 0; from < customers.length; from += PAGE) {
      const page = customers.slice(from, from + PAGE);
      const held = await pools.destination.query(`SELECT ${key}::text AS id FROM ${customerTable} WHERE ${key} = ANY($1::uuid[])`, [page.map((c) => c.id)]);
      const heldIds = new Set(held.rows.map((r) => r.id as string));
      for (const c of page) if (heldIds.has(c.id)) into.add(c.code);
      if (customers.length > PAGE) Context.current().heartbeat();
    }
  }

  /**
   * The value check of one batch by re-applying the mapping to its staged rows: their digest against
   * the destination's, and on a difference a row-by-row comparison that names the rows and columns.
   */
  async function remapBatch(runId: number, lo: number, hi: number, runDate: string, branches: BranchMap): Promise<BatchCheck> {
    const digests = await valueDigests(pools.destination, mapping);
    const printer = digests.printer();
    const codeOf = new Map<string, number>();
    const rejected: Customer[] = [];
    const { byType } = await mapStagedRange(pools.staging, mapping, { runId, lo, hi }, { runDate, branches: branches.lookup, printer }, (s, result) => {
      codeOf.set(s.customerId, s.code);
      if (!result.ok) rejected.push({ id: s.customerId, code: s.code });
    });

    const missing = new Findings();
    const wrongIds = new Findings();
    const mismatched = new Findings();
    const stale = new Findings();
    const mismatchedColumns = new Set<string>();
    await addHeld(rejected, stale);
    const printed = printer.finish();
    if (sameDigest(printed.digest, await digests.held(printed.ids))) {
      return { byType, missing, wrongIds, mismatched, stale, mismatchedColumns };
    }

    // The digests differ: compare row by row to say which rows and columns.
    const [customerDiffs, profileDiffs] = await withTransaction(pools.destination, async (client) => {
      await copyIntoTemp(client, 'rec_customer', customerTable, dest.customerColumns, printed.customerLines.all());
      await copyIntoTemp(client, 'rec_profile', profileTable, dest.profileColumns, printed.profileLines.all());
      // Index probes, never a scan of the whole destination per batch (fresh temp tables mislead the planner).
      await client.query('SET LOCAL enable_hashjoin = off');
      await client.query('SET LOCAL enable_mergejoin = off');
      return [await client.query(compareCustomers), await client.query(compareProfiles)];
    });
    const verdicts = new Map<string, 'missing' | 'wrongId' | 'mismatched'>();
    for (const d of [...customerDiffs.rows, ...profileDiffs.rows]) {
      const verdict = d.missing ? 'missing' : d.wrong_id ? 'wrongId' : 'mismatched';
      if (verdict === 'mismatched') for (const c of d.columns as string[]) mismatchedColumns.add(c);
      if (verdicts.get(d.id) !== 'missing' && verdicts.get(d.id) !== 'wrongId') verdicts.set(d.id, verdict);
    }
    const findings = { missing, wrongId: wrongIds, mismatched };
    for (const [id, verdict] of verdicts) findings[verdict].add(codeOf.get(id)!);
    return { byType, missing, wrongIds, mismatched, stale, mismatchedColumns };
  }

  /**
   * The value check of one batch against what its load recorded (migration_batch.expected): the
   * batch's loaded ids (staged minus rejected) must be exactly the rows the destination holds, with
   * the recorded digest. Answers null when anything differs: the caller then re-maps the batch.
   */
  async function checkRecorded(runId: number, batch: PlannedBatch): Promise<BatchCheck | null> {
    if (batch.status !== 'DONE' || !batch.expected || !batch.by_type) return null;
    const { staged, rejectedCodes } = await batchCustomers(pools.staging, runId, { batchNo: batch.batch_no, lo: batch.lo, hi: batch.hi });
    const loadedIds = staged.filter((r) => !rejectedCodes.has(r.code)).map((r) => r.id);
    const rejected = staged.filter((r) => rejectedCodes.has(r.code));
    const recorded = Object.values(batch.by_type).reduce((t, c) => ({ staged: t.staged + c.staged, loaded: t.loaded + c.loaded, rejected: t.rejected + c.rejected }), { staged: 0, loaded: 0, rejected: 0 });
    if (recorded.staged !== staged.length || recorded.loaded !== loadedIds.length || recorded.rejected !== rejected.length) return null;

    const digests = await valueDigests(pools.destination, mapping);
    const stale = new Findings();
    const [held] = await Promise.all([digests.held(loadedIds), addHeld(rejected, stale)]);
    if (!sameDigest(held, batch.expected)) return null;
    return { byType: batch.by_type, missing: new Findings(), wrongIds: new Findings(), mismatched: new Findings(), stale, mismatchedColumns: new Set() };
  }

  /**
   * Streams a column of one database into a temp table of the staging database (COPY both ways), so
   * a whole-table set comparison is one hash anti-join there instead of a million index probes.
   */
  async function withStagedIds<T>(from: Pool, select: string, temp: string, type: string, body: (staging: PoolClient) => Promise<T>): Promise<T> {
    const source = await from.connect();
    try {
      return await withTransaction(pools.staging, async (staging) => {
        await staging.query(`CREATE TEMP TABLE IF NOT EXISTS ${temp} (id ${type}) ON COMMIT DROP`);
        await pipeline(source.query(copyTo(`COPY (${select}) TO STDOUT`)), staging.query(copyFrom(`COPY ${temp} (id) FROM STDIN`)));
        await staging.query(`ANALYZE ${temp}`);
        Context.current().heartbeat();
        return body(staging);
      });
    } finally {
      source.release();
    }
  }

  /** Destination customers whose id belongs to no staged code. */
  async function findOrphans(): Promise<Findings> {
    const orphans = new Findings();
    await withStagedIds(pools.destination, `SELECT ${key} FROM ${customerTable}`, 'rec_destination_ids', 'uuid', async (staging) => {
      const lost = await staging.query(
        `SELECT count(*)::int AS n FROM rec_destination_ids d
         WHERE NOT EXISTS (SELECT 1 FROM customer_uuids u JOIN stg_customer s ON s.customer_code = u.customer_code WHERE u."customerId" = d.id)`,
      );
      orphans.count = lost.rows[0].n;
    });
    return orphans;
  }

  /** Staged codes gone from the source that the destination still holds (never deleted there). */
  async function findDeletedInSource(): Promise<Findings> {
    const deleted = new Findings();
    const { schema, table, key: sourceKey } = mapping.source;
    const gone = await withStagedIds(pools.source, `SELECT ${ident(sourceKey)} FROM ${qualified(schema, table)}`, 'rec_source_codes', 'integer', (staging) =>
      staging.query(
        `SELECT s.customer_code AS code, u."customerId"::text AS id FROM stg_customer s JOIN customer_uuids u USING (customer_code)
         WHERE NOT EXISTS (SELECT 1 FROM rec_source_codes c WHERE c.id = s.customer_code) ORDER BY s.customer_code`,
      ),
    );
    await addHeld(gone.rows.map((r) => ({ id: r.id, code: Number(r.code) })), deleted);
    return deleted;
  }

  /**
   * Stale customers that this run did not re-read: their latest staged row (extracted by an earlier
   * run) was rejected there, yet the destination holds them. Contract section 5 lists a stale
   * customer until a valid row arrives, not only in the run that rejected it.
   */
  async function findStaleFromEarlierRuns(runId: number): Promise<Findings> {
    const stale = new Findings();
    const candidates = await pools.staging.query(
      `SELECT DISTINCT s.customer_code AS code, u."customerId"::text AS id
       FROM migration_issue i
       JOIN stg_customer s ON s.customer_code = i.customer_code AND s.extracted_run_id = i.run_id
       JOIN customer_uuids u ON u.customer_code = s.customer_code
       WHERE i.severity = 'REJECT' AND i.run_id <> $1
       ORDER BY s.customer_code`,
      [runId],
    );
    await addHeld(candidates.rows.map((r) => ({ id: r.id, code: Number(r.code) })), stale);
    return stale;
  }

  async function reconcile({ runId, concurrency }: { runId: number; concurrency: number }): Promise<Reconciliation> {
    await pools.staging.query(`UPDATE migration_run SET phase = 'reconciling' WHERE run_id = $1`, [runId]);
    const [runDate, branches, batches, stagedTotal, runRow] = await Promise.all([
      readRunDate(pools.staging, runId),
      readBranches(pools.staging),
      pools.staging.query<PlannedBatch>(`SELECT batch_no, lo, hi, status, by_type, expected FROM migration_batch WHERE run_id = $1 ORDER BY batch_no`, [runId]),
      pools.staging.query(`SELECT count(*)::int AS n FROM stg_customer WHERE extracted_run_id = $1`, [runId]),
      pools.staging.query(`SELECT mode, settings, extraction, fingerprint, snapshot_at FROM migration_run WHERE run_id = $1`, [runId]),
    ]);
    const run = runRow.rows[0];
    const fraction = Number(run?.settings?.reconcileRemapFraction ?? config.RECONCILE_REMAP_FRACTION);
    // Re-mapped whatever the digests say: batch 1 and then evenly spread batches, `fraction` of all.
    const sampled = (batchNo: number) => fraction >= 1 || (fraction > 0 && (batchNo === 1 || Math.floor(batchNo * fraction) > Math.floor((batchNo - 1) * fraction)));
    const recomputed: Record<string, TypeCounts> = {};
    const recorded: Record<string, TypeCounts> = {};
    const missing = new Findings();
    const wrongIds = new Findings();
    const mismatched = new Findings();
    const stale = new Findings();
    const mismatchedColumns = new Set<string>();
    const notDone: number[] = [];
    const valueCheck = { batches: batches.rowCount ?? 0, recorded: 0, remappedSample: 0, remappedOnDifference: 0, remapFraction: fraction };
    for (const b of batches.rows) {
      if (b.status !== 'DONE') notDone.push(b.batch_no);
      else addCounts(recorded, b.by_type ?? {});
    }

    let next = 0;
    const worker = async () => {
      while (next < batches.rows.length) {
        const b = batches.rows[next++];
        const sample = sampled(b.batch_no);
        const fast = sample ? null : await checkRecorded(runId, b);
        const r = fast ?? (await remapBatch(runId, b.lo, b.hi, runDate, branches));
        valueCheck[fast ? 'recorded' : sample ? 'remappedSample' : 'remappedOnDifference']++;
        addCounts(recomputed, r.byType);
        for (const [into, from] of [[missing, r.missing], [wrongIds, r.wrongIds], [mismatched, r.mismatched], [stale, r.stale]] as const) {
          into.count += from.count;
          for (const code of from.examples) if (into.examples.length < EXAMPLES) into.examples.push(code);
        }
        r.mismatchedColumns.forEach((c) => mismatchedColumns.add(c));
        Context.current().heartbeat({ batchesChecked: next });
      }
    };
    const timed = async <T>(name: string, work: Promise<T>): Promise<T> => {
      const started = Date.now();
      const result = await work;
      log('debug', 'reconciliation step done', { runId, step: name, ms: Date.now() - started });
      return result;
    };
    // The whole-table checks run alongside the per-batch value check: they all only read.
    const [, orphans, deletedInSource, staleEarlier, againstSource, futureDated, fingerprints] = await Promise.all([
      timed('value check', Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker))),
      timed('orphans', findOrphans()),
      timed('deleted in source', findDeletedInSource()),
      timed('stale from earlier runs', findStaleFromEarlierRuns(runId)),
      timed('staged against the source', sourceChecks.stagedEqualsSource(runId, run.mode, run.extraction)),
      timed('future-dated', sourceChecks.futureDated(runId)),
      timed('fingerprints', sourceChecks.oneFingerprint(runId, run.fingerprint, branches)),
    ]);
    stale.count += staleEarlier.count;
    for (const code of staleEarlier.examples) if (stale.examples.length < EXAMPLES) stale.examples.push(code);

    const total = (counts: Record<string, TypeCounts>, f: keyof TypeCounts) => Object.values(counts).reduce((n, c) => n + c[f], 0);
    const staged = stagedTotal.rows[0].n;
    // By type name: batches finish in any order, the report must not.
    const byType = Object.fromEntries(Object.entries(recomputed).sort(([a], [b]) => a.localeCompare(b)));
    const typeLines = Object.entries(byType)
      .map(([type, c]) => `${type}: staged ${c.staged} = loaded ${c.loaded} + rejected ${c.rejected}`)
      .join('; ');
    const checks: ReconciliationCheck[] = [
      againstSource,
      {
        name: 'all_batches_done',
        ok: notDone.length === 0,
        detail: notDone.length ? `${notDone.length} batch(es) not loaded: ${notDone.slice(0, EXAMPLES).join(', ')}` : `${batches.rowCount} batch(es) loaded`,
        count: notDone.length,
      },
      {
        name: 'staged_equals_loaded_plus_rejected',
        // A full run stages every row it read (contract 5.1): extracted = staged.
        ok: staged === total(recomputed, 'staged') && total(recomputed, 'staged') === total(recomputed, 'loaded') + total(recomputed, 'rejected') &&
          total(recorded, 'loaded') === total(recomputed, 'loaded') && total(recorded, 'rejected') === total(recomputed, 'rejected') &&
          (run.mode !== 'full' || run.extraction?.rowsRead === staged),
        detail: `${run.mode === 'full' ? `extracted ${run.extraction?.rowsRead ?? '?'}, ` : ''}staged ${staged}; ${typeLines || 'no rows'}; recorded by the batches: loaded ${total(recorded, 'loaded')}, rejected ${total(recorded, 'rejected')}`,
      },
      {
        name: 'loaded_rows_present_with_stable_ids',
        ok: missing.count === 0 && wrongIds.count === 0,
        detail: `${missing.count} loaded code(s) missing a customer or customer_profile row, ${wrongIds.count} with ids other than customer_uuids`,
        count: missing.count + wrongIds.count,
        examples: [...missing.examples, ...wrongIds.examples].slice(0, EXAMPLES),
      },
      {
        name: 'no_destination_row_without_staged_source',
        ok: orphans.count === 0,
        detail: `${orphans.count} destination customer(s) with no staged source row`,
        count: orphans.count,
      },
      {
        name: 'values_match_mapping',
        ok: mismatched.count === 0,
        detail: (mismatched.count ? `${mismatched.count} row(s) differ from the mapping, in ${[...mismatchedColumns].join(', ')}` : `every loaded row matches the mapping`) +
          ` (batches: ${valueCheck.recorded} equal to what their load recorded, ${valueCheck.remappedSample} re-mapped as a sample, ${valueCheck.remappedOnDifference} re-mapped on a difference)`,
        count: mismatched.count,
        examples: mismatched.examples,
      },
      fingerprints,
    ];
    const reconciliation: Reconciliation = {
      ok: checks.every((c) => c.ok),
      checkedAt: new Date().toISOString(),
      byType,
      checks,
      stale: { count: stale.count, examples: stale.examples },
      deletedInSource: { count: deletedInSource.count, examples: deletedInSource.examples },
      futureDated,
      snapshotAt: run.snapshot_at ?? null,
      fingerprint: run.fingerprint ?? null,
      valueCheck,
    };
    await pools.staging.query(`UPDATE migration_run SET reconciliation = $2 WHERE run_id = $1`, [runId, reconciliation]);
    log('info', 'reconciliation done', { runId, ok: reconciliation.ok, stale: stale.count, deletedInSource: deletedInSource.count });
    return reconciliation;
  }

  return { reconcile };
}
