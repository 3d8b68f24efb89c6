import { strict as assert } from 'node:assert';
import type { Pool } from 'pg';
import { TestServers, useTestServers } from '../support/servers';
import { destinationDigest, pool, RunningWorker, runMigration, startWorker, testConfig } from '../support/harness';
import { seedSource } from '../../stack/seed';
import type { AppConfig } from '../../config/env';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createReconcileActivities } from '../../activities/reconcile';
import type { Reconciliation } from '../../contracts';

const INDIVIDUAL_KEYS = [
  'title',
  'firstName',
  'middleName',
  'lastName',
  'fullName',
  'gender',
  'dateOfBirth',
  'maritalStatus',
  'nationality',
  'email',
  'phoneNumber',
  'alternatePhoneNumber',
  'address',
  'identification',
  'occupation',
  'employerName',
  'kycLevel',
  'riskRating',
  'accountOfficer',
].sort();
const CORPORATE_KEYS = [
  'businessName',
  'registrationNumber',
  'taxId',
  'dateOfIncorporation',
  'natureOfBusiness',
  'email',
  'phoneNumber',
  'alternatePhoneNumber',
  'address',
  'kycLevel',
  'riskRating',
  'accountOfficer',
].sort();
const ROWS = 3000;

describe('full migration through the real workflow (Temporal dev server + PostgreSQL)', function () {
  this.timeout(600_000);
  const shared = useTestServers();
  let servers: TestServers;
  let config: AppConfig;
  let worker: RunningWorker;
  let source: Pool;
  let staging: Pool;
  let destination: Pool;

  before(async () => {
    servers = shared();
    await seedSource({ sourceUrl: servers.urls.source, stagingUrl: servers.urls.staging, rows: ROWS, seed: 7 });
    config = testConfig(servers.urls, servers.temporal.address);
    worker = await startWorker(config, servers.temporal.nativeConnection, servers.temporal.client);
    [source, staging, destination] = [pool(servers.urls.source), pool(servers.urls.staging), pool(servers.urls.destination)];
  });
  after(async () => {
    await Promise.allSettled([source?.end(), staging?.end(), destination?.end()]);
    await worker?.stop();
  });

  it('loads or rejects every staged row and proves it by reconciliation', async () => {
    const result = await runMigration(servers.temporal.client, config, { mode: 'full' });
    assert.equal(result.status, 'COMPLETED', JSON.stringify(result.reconciliation?.checks));
    assert.equal(result.counts.staged, ROWS);
    assert.equal(result.counts.loaded + result.counts.rejected, ROWS);
    assert.ok(result.counts.rejected > 0, 'the synthetic data has dirty rows');
    assert.ok(result.counts.warned > 0, 'the synthetic data has rows with warnings');
    assert.ok(result.reconciliation?.ok);
    assert.ok(result.batches.total >= ROWS / 500);
    // Every batch's destination rows matched the digest its load recorded (the digests printed in
    // Node and in PostgreSQL agree on dirty synthetic data), and batch 1 was mapped again in full.
    assert.deepEqual(result.reconciliation?.valueCheck, {
      batches: result.batches.total,
      recorded: result.batches.total - 1,
      remappedSample: 1,
      remappedOnDifference: 0,
      remapFraction: 0.05,
    });

    const dest = (await destination.query(`SELECT count(*)::int AS c FROM customer`)).rows[0].c;
    const profiles = (await destination.query(`SELECT count(*)::int AS c FROM customer_profile`)).rows[0].c;
    assert.equal(dest, result.counts.loaded);
    assert.equal(profiles, result.counts.loaded);
    const rejects = (
      await staging.query(
        `SELECT count(*)::int AS c, count(DISTINCT customer_code)::int AS codes FROM migration_issue WHERE severity = 'REJECT' AND run_id = $1`,
        [result.runId],
      )
    ).rows[0];
    assert.equal(rejects.c, result.counts.rejected);
    assert.equal(rejects.codes, result.counts.rejected);
  });

  it('gives every loaded code exactly one customer and one profile with its customer_uuids ids', async () => {
    const ids = (
      await staging.query(
        `SELECT u.customer_code, u."customerId"::text AS cid, u."customerProfileId"::text AS pid FROM customer_uuids u
       WHERE NOT EXISTS (SELECT 1 FROM migration_issue i WHERE i.customer_code = u.customer_code AND i.severity = 'REJECT')`,
      )
    ).rows;
    const dest = (
      await destination.query(
        `SELECT p."customerNumber", c."customerId"::text AS cid, p."customerProfileId"::text AS pid
       FROM customer c JOIN customer_profile p ON p."customerId" = c."customerId"`,
      )
    ).rows;
    const byNumber = new Map(dest.map((r) => [r.customerNumber, r]));
    assert.equal(dest.length, ids.length);
    for (const id of ids) {
      const row = byNumber.get(String(id.customer_code).padStart(10, '0'));
      assert.ok(row, `code ${id.customer_code} is loaded`);
      assert.equal(row.cid, id.cid);
      assert.equal(row.pid, id.pid);
    }
  });

  it('writes the jsonb layout of the contract for both customer types', async () => {
    const rows = (
      await destination.query(
        `SELECT c."customerType", c."CategoryOfCustomer", c."CategoryOfBusiness", p."customerProfileData" AS d FROM customer c JOIN customer_profile p USING ("customerId")`,
      )
    ).rows;
    const types = new Set(rows.map((r) => r.customerType));
    assert.deepEqual([...types].sort(), ['CORPORATE', 'INDIVIDUAL']);
    for (const r of rows) {
      const keys = Object.keys(r.d).sort();
      if (r.customerType === 'INDIVIDUAL') {
        assert.deepEqual(keys, INDIVIDUAL_KEYS);
        assert.equal(r.CategoryOfCustomer, 'RETAIL');
        assert.equal(r.CategoryOfBusiness, null);
        assert.deepEqual(Object.keys(r.d.identification).sort(), ['expiryDate', 'number', 'type']);
        assert.ok(typeof r.d.firstName === 'string' && typeof r.d.lastName === 'string');
      } else {
        assert.deepEqual(keys, CORPORATE_KEYS);
        assert.equal(r.CategoryOfCustomer, 'SME');
        assert.ok(typeof r.d.businessName === 'string');
      }
      assert.deepEqual(Object.keys(r.d.address).sort(), ['city', 'country', 'line1', 'line2', 'postalCode', 'state']);
      assert.ok(r.d.kycLevel === null || typeof r.d.kycLevel === 'number');
    }
  });

  it('keeps created_at / updated_at to the microsecond', async () => {
    const src = (await source.query(`SELECT customer_code, created_at::text AS c, updated_at::text AS u FROM efz_customer ORDER BY customer_code LIMIT 200`))
      .rows;
    const dst = new Map(
      (await destination.query(`SELECT "customerNumber", "createdAt"::text AS c, "updatedAt"::text AS u FROM customer_profile`)).rows.map((r) => [
        r.customerNumber,
        r,
      ]),
    );
    let compared = 0;
    for (const s of src) {
      const d = dst.get(String(s.customer_code).padStart(10, '0'));
      if (!d) continue;
      assert.equal(d.c, s.c);
      assert.equal(d.u, s.u);
      compared++;
    }
    assert.ok(compared > 100);
  });

  it('is idempotent: a second full run leaves both tables identical and the ids unchanged', async () => {
    const before = await destinationDigest(destination);
    const idsBefore = (await staging.query(`SELECT md5(string_agg(u::text, ',' ORDER BY customer_code)) AS h FROM customer_uuids u`)).rows[0].h;
    const second = await runMigration(servers.temporal.client, config, { mode: 'full' });
    assert.equal(second.status, 'COMPLETED');
    assert.deepEqual(await destinationDigest(destination), before);
    const idsAfter = (await staging.query(`SELECT md5(string_agg(u::text, ',' ORDER BY customer_code)) AS h FROM customer_uuids u`)).rows[0].h;
    assert.equal(idsAfter, idsBefore);
  });

  /** A completed full run, and its reconciliation to run again (outside the workflow) after the destination is changed. */
  async function completedRunToReconcile() {
    const run = await runMigration(servers.temporal.client, config, { mode: 'full' });
    assert.equal(run.status, 'COMPLETED');
    const { reconcile } = createReconcileActivities({
      pools: worker.pools,
      mapping: worker.mapping,
      config,
      temporal: servers.temporal.client,
      searchAttributes: false,
    });
    const check = () => new MockActivityEnvironment().run(reconcile, { runId: run.runId!, concurrency: 2 }) as Promise<Reconciliation>;
    return { run, check };
  }

  it('finds an orphan whose id customer_uuids holds for a code that was never staged (the set digests do not hide it)', async () => {
    const { check } = await completedRunToReconcile();
    const orphanCheck = (r: Reconciliation) => r.checks.find((c) => c.name === 'no_destination_row_without_staged_source')!;
    // An id in customer_uuids for a code staging never held, and a destination customer with that id.
    const [{ id }] = (
      await staging.query(`INSERT INTO customer_uuids VALUES (2000000001, gen_random_uuid(), gen_random_uuid()) RETURNING "customerId"::text AS id`)
    ).rows;
    try {
      // One statement: a temp table would live in one pooled session only.
      await destination.query(
        `INSERT INTO customer SELECT (jsonb_populate_record(NULL::customer, to_jsonb(c) || jsonb_build_object('customerId', $1::text))).* FROM customer c LIMIT 1`,
        [id],
      );
      const r = await check();
      assert.equal(orphanCheck(r).ok, false);
      assert.equal(orphanCheck(r).count, 1);
      assert.match(orphanCheck(r).detail, /checked id by id/);
    } finally {
      await destination.query(`DELETE FROM customer WHERE "customerId" = $1`, [id]);
      await staging.query(`DELETE FROM customer_uuids WHERE customer_code = 2000000001`);
    }
    assert.match(orphanCheck(await check()).detail, /0 destination customer\(s\).*checked by set digests/);
  });

  it('reconciliation fails when the destination differs: a changed value, a missing row, an orphan', async () => {
    const { run, check } = await completedRunToReconcile();
    const clean = await check();
    assert.ok(clean.ok, 'a clean destination reconciles');
    // Nothing differs: the whole-table checks are proven by set digests, without streaming ids across.
    assert.match(clean.checks.find((c) => c.name === 'no_destination_row_without_staged_source')!.detail, /checked by set digests/);
    assert.equal(clean.deletedInSource.via, 'set digests');

    // In the last batch: not the re-mapped sample, so the recorded digests must catch the changes.
    const [changed, removed] = (
      await destination.query(`SELECT "customerId"::text AS id, "customerNumber" AS n FROM customer_profile ORDER BY "customerNumber" DESC LIMIT 2`)
    ).rows;
    await destination.query(
      `UPDATE customer_profile SET "customerProfileData" = jsonb_set("customerProfileData", '{kycLevel}', '99') WHERE "customerId" = $1`,
      [changed.id],
    );
    await destination.query(`DELETE FROM customer_profile WHERE "customerId" = $1`, [removed.id]);
    await destination.query(`DELETE FROM customer WHERE "customerId" = $1`, [removed.id]);
    const orphan = (await destination.query(`SELECT * FROM customer LIMIT 1`)).rows[0];
    await destination.query(
      `INSERT INTO customer SELECT (SELECT gen_random_uuid()), "tenantId", "branchId", branch, "approverId", approver, "initiatorId", initiator,
         "customerType", "CategoryOfCustomer", "CategoryOfBusiness", status, "approvalStatus", "requiresRegularization",
         "isAutoReactivityOnly", monitoring, "isTerminated", "createdAt", "updatedAt" FROM customer WHERE "customerId" = $1`,
      [orphan.customerId],
    );

    const r = await check();
    assert.equal(r.ok, false);
    const byName = Object.fromEntries(r.checks.map((c) => [c.name, c]));
    assert.equal(byName.values_match_mapping.ok, false);
    assert.equal(byName.values_match_mapping.count, 1);
    assert.deepEqual(byName.values_match_mapping.examples, [Number(changed.n)]);
    assert.match(byName.values_match_mapping.detail, /customer_profile\.customerProfileData/);
    assert.equal(byName.loaded_rows_present_with_stable_ids.ok, false);
    assert.deepEqual(byName.loaded_rows_present_with_stable_ids.examples, [Number(removed.n)]);
    assert.equal(byName.no_destination_row_without_staged_source.ok, false);
    assert.equal(byName.no_destination_row_without_staged_source.count, 1);
    // One row removed and one orphan added leave the count equal: the digests differ, and the ids are compared one by one.
    assert.match(byName.no_destination_row_without_staged_source.detail, /checked id by id/);
    assert.ok((r.valueCheck?.remappedOnDifference ?? 0) >= 1, 'the changed batch was mapped again row by row');

    // With the whole run re-mapped (reconcileRemapFraction 1) the verdicts are the same.
    await staging.query(`UPDATE migration_run SET settings = settings || '{"reconcileRemapFraction": 1}' WHERE run_id = $1`, [run.runId]);
    const full = await check();
    assert.deepEqual(
      full.checks,
      r.checks.map((c) => (c.name === 'values_match_mapping' ? { ...c, detail: full.checks.find((f) => f.name === c.name)!.detail } : c)),
    );
    assert.equal(full.valueCheck?.remappedSample, full.valueCheck?.batches);

    // A clean run repairs what was changed and removed; the orphan stays (nothing is ever deleted).
    const repaired = await runMigration(servers.temporal.client, config, { mode: 'full' });
    const names = Object.fromEntries(repaired.reconciliation!.checks.map((c) => [c.name, c.ok]));
    assert.equal(names.values_match_mapping, true);
    assert.equal(names.loaded_rows_present_with_stable_ids, true);
    assert.equal(names.no_destination_row_without_staged_source, false);
    assert.equal(repaired.status, 'RECONCILIATION_FAILED');
  });
});
