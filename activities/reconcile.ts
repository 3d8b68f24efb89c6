import { isDeepStrictEqual } from 'node:util';
import { Context } from '@temporalio/activity';
import { ident, qualified } from '../db/copy';
import { log } from '../lib/log';
import type { ActivityDeps } from './deps';
import { readBranches, readRunDate, readStagedRange, UNKNOWN_TYPE } from './staged';
import type { Reconciliation, ReconciliationCheck, TypeCounts } from './types';

const EXAMPLES = 20;
const PAGE = 50_000;

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
 * no orphan destination rows, and a value check that maps every staged row of the run again and
 * compares it, column by column, with what the destination holds.
 */
export function createReconcileActivities({ pools, mapping }: ActivityDeps) {
  const dest = mapping.destination;
  const customerTable = qualified(dest.schema, dest.customerTable);
  const profileTable = qualified(dest.schema, dest.profileTable);
  const customerCols = dest.customerColumns.map(ident).join(', ');
  const profileCols = dest.profileColumns.map(ident).join(', ');

  async function checkBatch(runId: number, lo: number, hi: number, runDate: string, branches: Awaited<ReturnType<typeof readBranches>>) {
    const staged = await readStagedRange(pools.staging, mapping, runId, lo, hi);
    const ids = staged.map((s) => s.customerId);
    const [customers, profiles] = await Promise.all([
      pools.destination.query(`SELECT ${customerCols} FROM ${customerTable} WHERE ${ident(dest.customerKey)} = ANY($1::uuid[])`, [ids]),
      pools.destination.query(`SELECT ${profileCols} FROM ${profileTable} WHERE "customerId" = ANY($1::uuid[])`, [ids]),
    ]);
    const customerById = new Map(customers.rows.map((r) => [r[dest.customerKey] as string, r]));
    const profileByCustomer = new Map(profiles.rows.map((r) => [r.customerId as string, r]));
    const byType: Record<string, TypeCounts> = {};
    const missing = new Findings();
    const wrongIds = new Findings();
    const mismatched = new Findings();
    const stale = new Findings();
    const mismatchedColumns = new Set<string>();
    for (const s of staged) {
      const result = mapping.mapRow(s.row, { runDate, customerId: s.customerId, customerProfileId: s.customerProfileId }, branches);
      const counts = (byType[result.customerType ?? UNKNOWN_TYPE] ??= { staged: 0, loaded: 0, rejected: 0 });
      counts.staged++;
      const customer = customerById.get(s.customerId);
      const profile = profileByCustomer.get(s.customerId);
      if (!result.ok) {
        counts.rejected++;
        if (customer) stale.add(s.code);
        continue;
      }
      counts.loaded++;
      if (!customer || !profile) {
        missing.add(s.code);
        continue;
      }
      if (profile[dest.profileKey] !== s.customerProfileId) {
        wrongIds.add(s.code);
        continue;
      }
      let same = true;
      for (const c of dest.customerColumns) {
        if (!isDeepStrictEqual(normalise(customer[c]), normalise(result.customer[c]))) (same = false), mismatchedColumns.add(`${dest.customerTable}.${c}`);
      }
      for (const c of dest.profileColumns) {
        if (!isDeepStrictEqual(normalise(profile[c]), normalise(result.profile[c]))) (same = false), mismatchedColumns.add(`${dest.profileTable}.${c}`);
      }
      if (!same) mismatched.add(s.code);
    }
    return { byType, missing, wrongIds, mismatched, stale, mismatchedColumns };
  }

  /** Destination customers whose id belongs to no staged code. */
  async function findOrphans(): Promise<Findings> {
    const orphans = new Findings();
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const page = await pools.destination.query(
        `SELECT ${ident(dest.customerKey)}::text AS id FROM ${customerTable} WHERE ${ident(dest.customerKey)} > $1::uuid ORDER BY 1 LIMIT ${PAGE}`,
        [after],
      );
      if (!page.rowCount) break;
      const ids = page.rows.map((r) => r.id as string);
      const lost = await pools.staging.query(
        `SELECT id FROM unnest($1::uuid[]) AS id
         WHERE NOT EXISTS (SELECT 1 FROM customer_uuids u JOIN stg_customer s ON s.customer_code = u.customer_code WHERE u."customerId" = id)`,
        [ids],
      );
      orphans.count += lost.rowCount ?? 0;
      after = ids[ids.length - 1];
      Context.current().heartbeat();
      if (page.rowCount < PAGE) break;
    }
    return orphans;
  }

  /** Staged codes gone from the source that the destination still holds (never deleted there). */
  async function findDeletedInSource(): Promise<Findings> {
    const deleted = new Findings();
    const { schema, table, key } = mapping.source;
    let after = -2_147_483_649;
    for (;;) {
      const page = await pools.staging.query(
        `SELECT s.customer_code AS code, u."customerId" AS id FROM stg_customer s JOIN customer_uuids u USING (customer_code)
         WHERE s.customer_code > $1::bigint ORDER BY s.customer_code LIMIT ${PAGE}`,
        [after],
      );
      if (!page.rowCount) break;
      const codes = page.rows.map((r) => Number(r.code));
      const gone = await pools.source.query(
        `SELECT c FROM unnest($1::int[]) AS c WHERE NOT EXISTS (SELECT 1 FROM ${qualified(schema, table)} WHERE ${ident(key)} = c)`,
        [codes],
      );
      if (gone.rowCount) {
        const goneCodes = new Set(gone.rows.map((r) => Number(r.c)));
        const goneIds = page.rows.filter((r) => goneCodes.has(Number(r.code)));
        const held = await pools.destination.query(
          `SELECT ${ident(dest.customerKey)}::text AS id FROM ${customerTable} WHERE ${ident(dest.customerKey)} = ANY($1::uuid[])`,
          [goneIds.map((r) => r.id)],
        );
        const heldIds = new Set(held.rows.map((r) => r.id));
        for (const r of goneIds) if (heldIds.has(r.id)) deleted.add(Number(r.code));
      }
      after = codes[codes.length - 1];
      Context.current().heartbeat();
      if (page.rowCount < PAGE) break;
    }
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
    for (let from = 0; from < candidates.rows.length; from += PAGE) {
      const page = candidates.rows.slice(from, from + PAGE);
      const held = await pools.destination.query(
        `SELECT ${ident(dest.customerKey)}::text AS id FROM ${customerTable} WHERE ${ident(dest.customerKey)} = ANY($1::uuid[])`,
        [page.map((r) => r.id)],
      );
      const heldIds = new Set(held.rows.map((r) => r.id));
      for (const r of page) if (heldIds.has(r.id)) stale.add(Number(r.code));
      Context.current().heartbeat();
    }
    return stale;
  }

  async function reconcile({ runId, concurrency }: { runId: number; concurrency: number }): Promise<Reconciliation> {
    await pools.staging.query(`UPDATE migration_run SET phase = 'reconciling' WHERE run_id = $1`, [runId]);
    const [runDate, branches, batches, stagedTotal] = await Promise.all([
      readRunDate(pools.staging, runId),
      readBranches(pools.staging),
      pools.staging.query(`SELECT batch_no, lo, hi, status, by_type FROM migration_batch WHERE run_id = $1 ORDER BY batch_no`, [runId]),
      pools.staging.query(`SELECT count(*)::int AS n FROM stg_customer WHERE extracted_run_id = $1`, [runId]),
    ]);
    const recomputed: Record<string, TypeCounts> = {};
    const recorded: Record<string, TypeCounts> = {};
    const missing = new Findings();
    const wrongIds = new Findings();
    const mismatched = new Findings();
    const stale = new Findings();
    const mismatchedColumns = new Set<string>();
    const notDone: number[] = [];
    for (const b of batches.rows) {
      if (b.status !== 'DONE') notDone.push(b.batch_no);
      else addCounts(recorded, b.by_type ?? {});
    }

    let next = 0;
    const worker = async () => {
      while (next < batches.rows.length) {
        const b = batches.rows[next++];
        const r = await checkBatch(runId, b.lo, b.hi, runDate, branches);
        addCounts(recomputed, r.byType);
        for (const [into, from] of [[missing, r.missing], [wrongIds, r.wrongIds], [mismatched, r.mismatched], [stale, r.stale]] as const) {
          into.count += from.count;
          for (const code of from.examples) if (into.examples.length < EXAMPLES) into.examples.push(code);
        }
        r.mismatchedColumns.forEach((c) => mismatchedColumns.add(c));
        Context.current().heartbeat({ batchesChecked: next });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    const [orphans, deletedInSource, staleEarlier] = await Promise.all([findOrphans(), findDeletedInSource(), findStaleFromEarlierRuns(runId)]);
    stale.count += staleEarlier.count;
    for (const code of staleEarlier.examples) if (stale.examples.length < EXAMPLES) stale.examples.push(code);

    const total = (counts: Record<string, TypeCounts>, f: keyof TypeCounts) => Object.values(counts).reduce((n, c) => n + c[f], 0);
    const staged = stagedTotal.rows[0].n;
    const typeLines = Object.entries(recomputed)
      .map(([type, c]) => `${type}: staged ${c.staged} = loaded ${c.loaded} + rejected ${c.rejected}`)
      .join('; ');
    const checks: ReconciliationCheck[] = [
      {
        name: 'all_batches_done',
        ok: notDone.length === 0,
        detail: notDone.length ? `${notDone.length} batch(es) not loaded: ${notDone.slice(0, EXAMPLES).join(', ')}` : `${batches.rowCount} batch(es) loaded`,
        count: notDone.length,
      },
      {
        name: 'staged_equals_loaded_plus_rejected',
        ok: staged === total(recomputed, 'staged') && total(recomputed, 'staged') === total(recomputed, 'loaded') + total(recomputed, 'rejected') &&
          total(recorded, 'loaded') === total(recomputed, 'loaded') && total(recorded, 'rejected') === total(recomputed, 'rejected'),
        detail: `staged ${staged}; ${typeLines || 'no rows'}; recorded by the batches: loaded ${total(recorded, 'loaded')}, rejected ${total(recorded, 'rejected')}`,
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
        detail: mismatched.count ? `${mismatched.count} row(s) differ from the mapping, in ${[...mismatchedColumns].join(', ')}` : `every loaded row matches the mapping`,
        count: mismatched.count,
        examples: mismatched.examples,
      },
    ];
    const reconciliation: Reconciliation = {
      ok: checks.every((c) => c.ok),
      checkedAt: new Date().toISOString(),
      byType: recomputed,
      checks,
      stale: { count: stale.count, examples: stale.examples },
      deletedInSource: { count: deletedInSource.count, examples: deletedInSource.examples },
    };
    await pools.staging.query(`UPDATE migration_run SET reconciliation = $2 WHERE run_id = $1`, [runId, reconciliation]);
    log('info', 'reconciliation done', { runId, ok: reconciliation.ok, stale: stale.count, deletedInSource: deletedInSource.count });
    return reconciliation;
  }

  return { reconcile };
}

/** Values as both sides hold them: PostgreSQL's own text for timestamps, parsed JSON for jsonb. */
function normalise(value: unknown): unknown {
  return value === undefined ? null : value;
}
