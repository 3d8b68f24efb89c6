import { strict as assert } from 'node:assert';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Client as PgClient } from 'pg';
import type { Pool } from 'pg';
import { TestServers, useTestServers } from '../support/servers';
import { destinationDigest, pool, RunningWorker, runMigration, startWorker, testConfig } from '../support/harness';
import { runCli, waitFor } from '../support/cli';
import { seedSource } from '../../stack/seed';
import type { AppConfig } from '../../config/env';
import { MigrationInput, progressQuery, WORKFLOW_TYPE } from '../../workflows/definitions';
import { createActivities } from '../../activities';
import { MockActivityEnvironment } from '@temporalio/testing';

const ROWS = 1500;
const LOOKBACK_SECONDS = 300;

describe('incremental runs by watermark (real Temporal dev server + PostgreSQL)', function () {
  this.timeout(600_000);
  const shared = useTestServers();
  let servers: TestServers;
  let config: AppConfig;
  let worker: RunningWorker;
  let source: Pool;
  let staging: Pool;
  let destination: Pool;
  /** Codes a test has changed: later tests pick others, so every check sees only its own changes. */
  const used = new Set<number>();
  let idCounter = 0;
  const newId = (what: string) => `test-${what}-${process.pid}-${++idCounter}-${Date.now()}`;

  const run = (input: MigrationInput, workflowId = newId(input.mode)) => runMigration(servers.temporal.client, config, input, workflowId);
  const start = (input: MigrationInput, workflowId = newId(input.mode)) =>
    servers.temporal.client.workflow.start(WORKFLOW_TYPE, { taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId, args: [input] });
  const watermark = async (): Promise<{ watermark: string; run_id: number } | undefined> =>
    (await staging.query(`SELECT watermark::text AS watermark, run_id FROM migration_watermark WHERE pipeline = $1`, [config.PIPELINE])).rows[0];
  /** The source clock at the run's extraction snapshot: the watermark a completed run records (contract 5.1). */
  const snapshotOf = async (runId: number | null): Promise<string> =>
    (await staging.query(`SELECT snapshot_at::text AS s FROM migration_run WHERE run_id = $1`, [runId])).rows[0].s;
  /** The snapshot came after every row the source holds was written (none is future-dated here). */
  const snapshotAfterEveryRow = async (snapshot: string): Promise<boolean> =>
    (await source.query(`SELECT $1::timestamptz >= max(updated_at) AS ok FROM efz_customer`, [snapshot])).rows[0].ok;
  const runRow = async (runId: number | null) =>
    (
      await staging.query(
        `SELECT status, mode, note, error, watermark_before::text AS before, watermark_after::text AS after, extract_since::text AS since FROM migration_run WHERE run_id = $1`,
        [runId],
      )
    ).rows[0];
  /** How many source rows an incremental run with this extract_since must read. */
  const sourceRowsSince = async (since: string): Promise<number> =>
    (await source.query(`SELECT count(*)::int AS n FROM efz_customer WHERE updated_at >= $1::timestamptz`, [since])).rows[0].n;
  const destRow = async (code: number): Promise<{ c: string; p: string; cx: string; px: string } | undefined> =>
    (
      await destination.query(
        `SELECT c::text AS c, p::text AS p, c.xmin::text AS cx, p.xmin::text AS px FROM customer c JOIN customer_profile p USING ("customerId") WHERE p."customerNumber" = $1`,
        [String(code).padStart(10, '0')],
      )
    ).rows[0];
  /** Every destination row with its text and xmin (a rewritten row gets a new xmin). */
  const destSnapshot = async (): Promise<Map<string, string>> => {
    const rows = (
      await destination.query(
        `SELECT p."customerNumber" AS n, c.xmin::text || '|' || p.xmin::text || '|' || c::text || '|' || p::text AS v
       FROM customer c JOIN customer_profile p USING ("customerId")`,
      )
    ).rows;
    return new Map(rows.map((r) => [r.n as string, r.v as string]));
  };
  /** Loaded, not terminated customers of one type that no earlier test touched. */
  const pickLoaded = async (type: 'INDIVIDUAL' | 'CORPORATE', count: number): Promise<number[]> => {
    const rows = (
      await destination.query(
        `SELECT p."customerNumber"::int AS code FROM customer c JOIN customer_profile p USING ("customerId")
       WHERE c."customerType" = $1 AND NOT c."isTerminated" ORDER BY p."customerNumber"`,
        [type],
      )
    ).rows
      .map((r) => Number(r.code))
      .filter((c) => !used.has(c));
    assert.ok(rows.length >= count, `need ${count} loaded ${type} customers, have ${rows.length}`);
    const picked = rows.slice(0, count);
    picked.forEach((c) => used.add(c));
    return picked;
  };
  const touch = (sql: string, codes: number[]) =>
    source.query(`UPDATE efz_customer SET ${sql}, updated_at = clock_timestamp() WHERE customer_code = ANY($1::int[])`, [codes]);
  const lockHolder = async (): Promise<string | undefined> =>
    (await staging.query(`SELECT workflow_id FROM migration_lock WHERE pipeline = $1`, [config.PIPELINE])).rows[0]?.workflow_id;
  /** Holds an ACCESS EXCLUSIVE lock on efz_customer until release(): a run blocks in its extract. */
  const blockSource = async () => {
    const blocker = new PgClient({ connectionString: servers.urls.source, application_name: 'customer-migration:test-blocker' });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE efz_customer IN ACCESS EXCLUSIVE MODE');
    return {
      release: async () => {
        await blocker.query('COMMIT').catch(() => undefined);
        await blocker.end().catch(() => undefined);
      },
    };
  };
  const failureOf = async (promise: Promise<unknown>): Promise<ApplicationFailure> => {
    const err = await promise.then(
      () => assert.fail('the run was expected to fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
    assert.ok(err.cause instanceof ApplicationFailure, `expected an ApplicationFailure cause, got ${String(err.cause)}`);
    return err.cause;
  };

  before(async () => {
    servers = shared();
    await seedSource({ sourceUrl: servers.urls.source, stagingUrl: servers.urls.staging, rows: ROWS, seed: 31 });
    config = testConfig(servers.urls, servers.temporal.address, { INCREMENTAL_LOOKBACK_SECONDS: String(LOOKBACK_SECONDS) });
    worker = await startWorker(config, servers.temporal.nativeConnection, servers.temporal.client);
    [source, staging, destination] = [pool(servers.urls.source), pool(servers.urls.staging), pool(servers.urls.destination)];
  });
  after(async () => {
    await Promise.allSettled([source?.end(), staging?.end(), destination?.end()]);
    await worker?.stop();
  });

  it('runs the first incremental run as a full run when there is no watermark, and says so', async () => {
    assert.equal(await watermark(), undefined);
    const workflowId = newId('first-incremental');
    const result = await run({ mode: 'incremental' }, workflowId);
    assert.equal(result.status, 'COMPLETED', JSON.stringify(result.reconciliation?.checks));
    assert.equal(result.mode, 'full');
    assert.match(result.note ?? '', /no watermark/);
    assert.equal(result.counts.staged, ROWS);
    assert.equal(result.counts.loaded + result.counts.rejected, ROWS);
    assert.equal(result.watermarkBefore, null);
    const snapshot = await snapshotOf(result.runId);
    assert.ok(await snapshotAfterEveryRow(snapshot));
    assert.equal(result.watermarkAfter, snapshot);
    assert.deepEqual(await watermark(), { watermark: snapshot, run_id: result.runId });

    // The operator's report says the same, from staging.
    const report = await runCli(config, ['report', workflowId, '--json']);
    assert.equal(report.code, 0, report.stderr);
    assert.equal(report.json.mode, 'full');
    assert.match(report.json.note, /no watermark/);
    assert.equal(report.json.watermark.before, null);
    assert.ok(report.json.watermark.after, 'the report shows the watermark the run set');
    assert.equal(report.json.status, 'COMPLETED');
  });

  it('carries inserts, updates, a change of customer type and soft deletes: the destination equals a fresh full run', async () => {
    const before = (await watermark())!;
    const [updated, typeChanged, softDeleted] = [await pickLoaded('INDIVIDUAL', 30), await pickLoaded('INDIVIDUAL', 5), await pickLoaded('INDIVIDUAL', 6)];
    const softDeletedCorporate = await pickLoaded('CORPORATE', 4);
    await touch(`address_line1 = 'Incremental ' || customer_code || ' Marina Road', email = 'updated.' || customer_code || '@example.com'`, updated);
    await touch(
      `customer_type = 'SME', business_name = 'Okafor Trading ' || customer_code || ' Ltd', registration_number = 'RC' || customer_code,
       tax_id = customer_code || '-0001', date_of_incorporation = '2015-06-30', occupation = 'general trading'`,
      typeChanged,
    );
    await touch(`is_deleted = true`, [...softDeleted, ...softDeletedCorporate]);
    // New customers (dirty ones among them: rejected, never loaded, so never stale).
    const NEW = 120;
    await seedSource({ sourceUrl: servers.urls.source, stagingUrl: servers.urls.staging, rows: NEW, startCode: 100_001, seed: 32, truncate: false });
    await source.query(`UPDATE efz_customer SET updated_at = clock_timestamp() WHERE customer_code >= 100001`);

    const workflowId = newId('incremental');
    const result = await run({ mode: 'incremental' }, workflowId);
    assert.equal(result.status, 'COMPLETED', JSON.stringify(result.reconciliation?.checks));
    assert.equal(result.mode, 'incremental');
    assert.equal(result.note, null);
    assert.equal(result.watermarkBefore, before.watermark);
    const snapshot = await snapshotOf(result.runId);
    assert.ok(await snapshotAfterEveryRow(snapshot));
    assert.equal(result.watermarkAfter, snapshot);
    assert.deepEqual(await watermark(), { watermark: snapshot, run_id: result.runId });

    // Only the rows at or after watermark − look-back were read.
    const row = await runRow(result.runId);
    assert.equal(row.mode, 'incremental');
    assert.equal(row.before, before.watermark);
    const since = (await staging.query(`SELECT ($1::timestamptz - make_interval(secs => $2))::text AS s`, [before.watermark, LOOKBACK_SECONDS])).rows[0].s;
    assert.equal(row.since, since);
    const expected = await sourceRowsSince(since);
    assert.equal(result.counts.extracted, expected);
    assert.ok(expected >= 30 + 5 + 10 + NEW && expected < ROWS / 2, `extracted ${expected} rows`);
    assert.equal(result.counts.staged, expected);
    assert.ok(result.counts.loaded >= 30 + 5 + 10, 'every changed customer loaded');

    // The changes are there.
    const types = (
      await destination.query(
        `SELECT p."customerNumber"::int AS code, c."customerType" AS t, c."CategoryOfCustomer" AS cat, c.status, c."isTerminated" AS term,
              p."customerProfileData" ->> 'businessName' AS biz, p."customerProfileData" -> 'address' ->> 'line1' AS line1
       FROM customer c JOIN customer_profile p USING ("customerId") WHERE p."customerNumber"::int = ANY($1::int[])`,
        [[...updated, ...typeChanged, ...softDeleted, ...softDeletedCorporate]],
      )
    ).rows;
    const byCode = new Map(types.map((r) => [Number(r.code), r]));
    for (const code of updated) assert.equal(byCode.get(code)?.line1, `Incremental ${code} Marina Road`);
    for (const code of typeChanged) {
      assert.equal(byCode.get(code)?.t, 'CORPORATE', `code ${code} became an SME`);
      assert.equal(byCode.get(code)?.cat, 'SME');
      assert.equal(byCode.get(code)?.biz, `Okafor Trading ${code} Ltd`);
    }
    for (const code of [...softDeleted, ...softDeletedCorporate]) {
      assert.equal(byCode.get(code)?.status, 'CLOSED', `code ${code} soft-deleted`);
      assert.equal(byCode.get(code)?.term, true);
    }
    const newLoaded = (await destination.query(`SELECT count(*)::int AS n FROM customer_profile WHERE "customerNumber"::int >= 100001`)).rows[0].n;
    assert.ok(newLoaded > NEW / 2, `new customers loaded: ${newLoaded}`);

    const report = await runCli(config, ['report', workflowId, '--json']);
    assert.equal(report.code, 0, report.stderr);
    assert.equal(report.json.mode, 'incremental');
    assert.ok(report.json.watermark.before && report.json.watermark.after && report.json.watermark.extractSince);
    assert.notEqual(report.json.watermark.after, report.json.watermark.before, 'the report shows the watermark moving');

    // A fresh full run into an empty destination (staging keeps customer_uuids, so ids match).
    const incremental = await destinationDigest(destination);
    await destination.query('TRUNCATE customer_profile, customer');
    const full = await run({ mode: 'full' });
    assert.equal(full.status, 'COMPLETED', JSON.stringify(full.reconciliation?.checks));
    assert.deepEqual(await destinationDigest(destination), incremental);
    assert.equal(incremental.customers, full.counts.loaded);
  });

  it('keeps a loaded customer whose newer source row is rejected, lists it as stale until a valid row arrives', async () => {
    const [code] = await pickLoaded('INDIVIDUAL', 1);
    const loaded = (await destRow(code))!;
    await touch(`bvn = '123', address_line1 = 'Never loaded ' || customer_code`, [code]);

    const rejected = await run({ mode: 'incremental' });
    assert.equal(rejected.status, 'COMPLETED', JSON.stringify(rejected.reconciliation?.checks));
    assert.ok(rejected.counts.rejected >= 1);
    assert.deepEqual(await destRow(code), loaded, 'the destination keeps the last loaded version, untouched');
    const issue = (
      await staging.query(`SELECT severity, reason, field, value, source_row ->> 'bvn' AS bvn FROM migration_issue WHERE run_id = $1 AND customer_code = $2`, [
        rejected.runId,
        code,
      ])
    ).rows;
    assert.deepEqual(issue, [{ severity: 'REJECT', reason: 'INVALID_BVN', field: 'bvn', value: '123', bvn: '123' }]);
    assert.ok(rejected.reconciliation?.stale.examples.includes(code), JSON.stringify(rejected.reconciliation?.stale));
    assert.equal(rejected.reconciliation?.stale.count, 1);

    // A run that does not re-read the row still lists the customer: no valid row has arrived. (A worker
    // without look-back, and a later change that moves the watermark past the rejected row, so that
    // the next run's window leaves it out.)
    const [later, other] = await pickLoaded('INDIVIDUAL', 2);
    const noLookback = testConfig(servers.urls, servers.temporal.address, { INCREMENTAL_LOOKBACK_SECONDS: '0' });
    const second = await startWorker(noLookback, servers.temporal.nativeConnection, servers.temporal.client);
    try {
      await touch(`address_line2 = 'later change'`, [later]);
      assert.equal((await runMigration(servers.temporal.client, noLookback, { mode: 'incremental' })).status, 'COMPLETED');
      await touch(`address_line2 = 'unrelated change'`, [other]);
      const unrelated = await runMigration(servers.temporal.client, noLookback, { mode: 'incremental' });
      assert.equal(unrelated.status, 'COMPLETED', JSON.stringify(unrelated.reconciliation?.checks));
      assert.equal(
        (await staging.query(`SELECT count(*)::int AS n FROM stg_customer WHERE extracted_run_id = $1 AND customer_code = $2`, [unrelated.runId, code])).rows[0]
          .n,
        0,
        'the run did not re-read the rejected row',
      );
      assert.deepEqual(unrelated.reconciliation?.stale, { count: 1, examples: [code] });
      assert.deepEqual(await destRow(code), loaded);
    } finally {
      await second.stop();
    }

    await touch(`bvn = '22233344455', address_line1 = 'Fixed ' || customer_code`, [code]);
    const fixed = await run({ mode: 'incremental' });
    assert.equal(fixed.status, 'COMPLETED', JSON.stringify(fixed.reconciliation?.checks));
    const now = (
      await destination.query(`SELECT p.bvn, p."customerProfileData" -> 'address' ->> 'line1' AS line1 FROM customer_profile p WHERE p."customerNumber" = $1`, [
        String(code).padStart(10, '0'),
      ])
    ).rows[0];
    assert.deepEqual(now, { bvn: '22233344455', line1: `Fixed ${code}` });
    assert.deepEqual(fixed.reconciliation?.stale, { count: 0, examples: [] });
  });

  it('never deletes a customer whose source row was hard-deleted; reconciliation lists it', async () => {
    const gone = await pickLoaded('INDIVIDUAL', 2);
    const [changed] = await pickLoaded('CORPORATE', 1);
    const held = await Promise.all(gone.map(destRow));
    await source.query(`DELETE FROM efz_customer WHERE customer_code = ANY($1::int[])`, [gone]);
    await touch(`address_line2 = 'still here'`, [changed]);

    const result = await run({ mode: 'incremental' });
    assert.equal(result.status, 'COMPLETED', JSON.stringify(result.reconciliation?.checks));
    assert.equal(result.reconciliation?.deletedInSource.count, 2);
    assert.equal(result.reconciliation?.deletedInSource.via, 'item by item', 'the source lacks staged codes: the digests differ');
    assert.deepEqual(
      [...(result.reconciliation?.deletedInSource.examples ?? [])].sort((a, b) => a - b),
      [...gone].sort((a, b) => a - b),
    );
    assert.deepEqual(await Promise.all(gone.map(destRow)), held, 'the destination still holds them, unchanged');
  });

  it('picks up a row committed late inside the look-back; re-reading unchanged rows rewrites nothing', async () => {
    const [late, early, far, older] = [...(await pickLoaded('INDIVIDUAL', 2)), ...(await pickLoaded('CORPORATE', 2))];
    // A source row whose updated_at went back (still inside the look-back) never replaces the newer
    // staged copy in an incremental run, and the reconciliation says that staging then differs from the source.
    await touch(`address_line1 = 'Older ' || customer_code`, [older]);
    assert.equal((await run({ mode: 'incremental' })).status, 'COMPLETED');

    // A transaction that stamps updated_at with its start time but commits after the next run has read.
    const slow = new PgClient({ connectionString: servers.urls.source, application_name: 'customer-migration:test-late' });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      await slow.query(`UPDATE efz_customer SET address_line1 = 'Late ' || customer_code, updated_at = now() WHERE customer_code = $1`, [late]);
      await new Promise((r) => setTimeout(r, 50));
      await touch(`address_line1 = 'Early ' || customer_code`, [early]);
      const first = await run({ mode: 'incremental' });
      assert.equal(first.status, 'COMPLETED');
      assert.match((await destRow(early))!.p, new RegExp(`Early ${early}`));
      assert.doesNotMatch((await destRow(late))!.p, /Late /, 'the late row was not committed yet');
      await slow.query('COMMIT');
    } finally {
      await slow.query('ROLLBACK').catch(() => undefined);
      await slow.end();
    }
    const wm = (await watermark())!;
    const lateStamp = (
      await source.query(`SELECT updated_at::text AS u, updated_at < $2::timestamptz AS older FROM efz_customer WHERE customer_code = $1`, [late, wm.watermark])
    ).rows[0];
    assert.equal(lateStamp.older, true, 'the late row is stamped before the watermark');
    // A change stamped an hour before the watermark is outside the look-back.
    await source.query(
      `UPDATE efz_customer SET address_line1 = 'Far ' || customer_code, updated_at = $2::timestamptz - interval '1 hour' WHERE customer_code = $1`,
      [far, wm.watermark],
    );
    await source.query(
      `UPDATE efz_customer SET address_line1 = 'Regressed ' || customer_code, updated_at = updated_at - interval '10 seconds' WHERE customer_code = $1`,
      [older],
    );

    const snapshot = await destSnapshot();
    const farBefore = await destRow(far);
    const olderBefore = await destRow(older);
    const second = await run({ mode: 'incremental' });
    assert.equal(second.status, 'RECONCILIATION_FAILED', JSON.stringify(second.reconciliation?.checks));
    assert.deepEqual(
      second.reconciliation!.checks.filter((c) => !c.ok).map((c) => [c.name, c.examples]),
      [['staged_equals_source_snapshot', [older]]],
    );
    assert.match(second.reconciliation!.checks[0].detail, /1 source row\(s\) read but not staged, their staged copy has a newer updated_at/);
    assert.equal(second.watermarkBefore, wm.watermark);
    assert.equal(second.watermarkAfter, wm.watermark, 'a run whose reconciliation failed leaves the watermark');
    const since = (await runRow(second.runId)).since;
    assert.equal(second.counts.extracted, await sourceRowsSince(since));
    assert.ok(second.counts.extracted >= 3, `rows re-read inside the look-back: ${second.counts.extracted}`);
    assert.equal(second.counts.staged, second.counts.extracted - 1, 'the regressed row was read but not staged');
    assert.deepEqual(await destRow(older), olderBefore);
    assert.equal((await staging.query(`SELECT address_line1 FROM stg_customer WHERE customer_code = $1`, [older])).rows[0].address_line1, `Older ${older}`);
    assert.match((await destRow(late))!.p, new RegExp(`Late ${late}`), 'the late row is picked up');
    assert.deepEqual(await destRow(far), farBefore, 'a row older than the look-back is not read');

    const after = await destSnapshot();
    assert.equal(after.size, snapshot.size);
    const changed = [...after].filter(([n, v]) => snapshot.get(n) !== v).map(([n]) => Number(n));
    assert.deepEqual(changed, [late], 'only the late row was written: re-read rows kept their xmin and values');

    // Bring the far row in, and give the regressed row a newer change, for the tests that follow.
    await touch(`address_line1 = 'Far ' || customer_code`, [far, older]);
    const healed = await run({ mode: 'incremental' });
    assert.equal(healed.status, 'COMPLETED', JSON.stringify(healed.reconciliation?.checks));
    assert.equal(healed.watermarkAfter, await snapshotOf(healed.runId));
  });

  it('leaves the watermark unchanged when a run fails and is aborted; the next run catches up', async () => {
    const codes = [...(await pickLoaded('INDIVIDUAL', 20)), ...(await pickLoaded('CORPORATE', 5))];
    await touch(`address_line2 = 'T4 ' || customer_code`, codes);
    await destination.query(
      `CREATE FUNCTION test_refuse_writes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'test: the destination refuses writes'; END $$`,
    );
    await destination.query(`CREATE TRIGGER test_refuse_writes BEFORE INSERT OR UPDATE ON customer FOR EACH ROW EXECUTE FUNCTION test_refuse_writes()`);
    const before = (await watermark())!;
    let abortedRunId: number | null;
    try {
      const workflowId = newId('failing');
      const handle = await start({ mode: 'incremental' }, workflowId);
      const waiting = await waitFor(
        'the run to wait for a decision on its failed batches',
        async () => {
          const p = await handle.query(progressQuery).catch(() => undefined);
          return p?.phase === 'awaiting-decision' ? p : undefined;
        },
        180_000,
        1000,
      );
      abortedRunId = waiting.runId;
      assert.ok(waiting.failedBatches.length >= 1);
      assert.equal(waiting.failedBatches.length, waiting.batches.total, 'every batch failed');
      assert.match(waiting.failedBatches[0].error, /refuses writes/);

      const abort = await runCli(config, ['abort', workflowId, '--reason', 'test: destination down', '--json']);
      assert.equal(abort.code, 0, abort.stderr);
      assert.deepEqual(abort.json, { runId: workflowId, aborted: true });
      // An aborted run ends with status ABORTED (as a result, or as a RunAborted failure).
      const ended = await handle.result().then(
        (r) => r.status,
        (err: unknown) => (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure ? err.cause.type : String(err)),
      );
      assert.ok(ended === 'ABORTED' || ended === 'RunAborted', `the run ended ${ended}`);

      const row = await runRow(abortedRunId);
      assert.equal(row.status, 'ABORTED');
      assert.equal(row.after, before.watermark, 'an aborted run records the watermark unchanged');
      assert.deepEqual(await watermark(), before);
      assert.equal(await lockHolder(), undefined, 'the pipeline lock is released');
    } finally {
      await destination.query(`DROP TRIGGER IF EXISTS test_refuse_writes ON customer`);
      await destination.query(`DROP FUNCTION IF EXISTS test_refuse_writes()`);
    }

    const next = await run({ mode: 'incremental' });
    assert.equal(next.status, 'COMPLETED', JSON.stringify(next.reconciliation?.checks));
    assert.equal(next.watermarkBefore, before.watermark);
    assert.equal((await runRow(next.runId)).since, (await runRow(abortedRunId)).since, 'the next run reads from where the aborted one did');
    const landed = (
      await destination.query(
        `SELECT count(*)::int AS n FROM customer_profile WHERE "customerNumber"::int = ANY($1::int[]) AND "customerProfileData" -> 'address' ->> 'line2' = 'T4 ' || ("customerNumber"::int)`,
        [codes],
      )
    ).rows[0].n;
    assert.equal(landed, codes.length, 'nothing lost');
    assert.equal(next.watermarkAfter, await snapshotOf(next.runId));
  });

  it('never runs two runs of a pipeline at once: the CLI refuses, the workflow fails RunAlreadyActive, a scheduled run is SKIPPED', async () => {
    const codes = await pickLoaded('INDIVIDUAL', 10);
    await touch(`address_line2 = 'overlap ' || customer_code`, codes);
    const runsBefore = (await staging.query(`SELECT count(*)::int AS n FROM migration_run`)).rows[0].n;
    const blocker = await blockSource();
    const scheduleId = newId('overlap-schedule');
    let firstId: string;
    let first: Awaited<ReturnType<typeof start>>;
    try {
      firstId = newId('long');
      first = await start({ mode: 'incremental', trigger: 'cli' }, firstId);
      await waitFor('the first run to take the pipeline lock', async () => (await lockHolder()) === firstId, 60_000, 200);

      const refused = await runCli(config, ['incremental', '--json']);
      assert.equal(refused.code, 1, refused.stderr);
      assert.equal(refused.json.kind, 'RefusedError');
      assert.match(refused.json.error, /already in progress/);
      assert.ok(refused.json.error.includes(firstId), refused.json.error);
      const refusedText = await runCli(config, ['full', '--wait']);
      assert.equal(refusedText.code, 1);
      assert.match(refusedText.stderr, new RegExp(`refused: a run of pipeline ${config.PIPELINE} is already in progress \\(${firstId}\\)`));

      // Past the CLI's check (a start from the UI, or a race): the workflow itself refuses.
      const failure = await failureOf(run({ mode: 'full', trigger: 'ui' }));
      assert.equal(failure.type, 'RunAlreadyActive');
      assert.match(failure.message, new RegExp(`another run of pipeline ${config.PIPELINE} is in progress: workflow ${firstId}`));

      // A scheduled run, through a real Temporal Schedule made by the CLI, is skipped.
      const created = await runCli(config, ['schedule', 'create', '--id', scheduleId, '--every', '1h', '--paused', '--json']);
      assert.equal(created.code, 0, created.stderr);
      const triggered = await runCli(config, ['schedule', 'trigger', scheduleId, '--json']);
      assert.equal(triggered.code, 0, triggered.stderr);
      const scheduledId = await waitFor(
        'the scheduled run to start',
        async () => {
          const d = await runCli(config, ['schedule', 'describe', scheduleId, '--json']);
          return d.json?.recent?.[0]?.workflowId as string | undefined;
        },
        60_000,
        1000,
      );
      const skipped = await servers.temporal.client.workflow.getHandle(scheduledId).result();
      assert.equal(skipped.status, 'SKIPPED');
      assert.equal(skipped.runId, null);
      assert.match(skipped.note ?? '', new RegExp(`skipped: another run of pipeline ${config.PIPELINE} is in progress: workflow ${firstId}`));
      assert.equal(await lockHolder(), firstId, 'the running run keeps its lock');
    } finally {
      await blocker.release();
      await runCli(config, ['schedule', 'delete', scheduleId, '--json']).catch(() => undefined);
    }
    const result = await first!.result();
    assert.equal(result.status, 'COMPLETED', JSON.stringify(result.reconciliation?.checks));
    assert.ok(result.counts.loaded >= codes.length);
    assert.equal(await lockHolder(), undefined);
    const runsAfter = (await staging.query(`SELECT count(*)::int AS n FROM migration_run`)).rows[0].n;
    assert.equal(runsAfter, runsBefore + 1, 'refused and skipped runs recorded no run');
  });

  it('a cancelled or terminated run leaves the watermark unchanged; an extraction left behind by an ended run stages nothing', async () => {
    const codes = await pickLoaded('INDIVIDUAL', 10);
    await touch(`address_line2 = 'cancel ' || customer_code`, codes);
    const before = (await watermark())!;

    // Cancelled while its extraction waits on the source.
    let blocker = await blockSource();
    const cancelledId = newId('cancelled');
    let cancelled: Awaited<ReturnType<typeof start>>;
    try {
      cancelled = await start({ mode: 'incremental' }, cancelledId);
      await waitFor('the run to take the pipeline lock', async () => (await lockHolder()) === cancelledId, 60_000, 200);
      await cancelled.cancel();
    } finally {
      await blocker.release();
    }
    await cancelled!.result().then(
      () => assert.fail('a cancelled run does not complete'),
      (err) => assert.ok(err instanceof WorkflowFailedError, String(err)),
    );
    const cancelledRun = (await staging.query(`SELECT run_id, status, watermark_after::text AS after FROM migration_run WHERE workflow_id = $1`, [cancelledId]))
      .rows[0];
    assert.equal(cancelledRun.status, 'CANCELLED');
    assert.equal(cancelledRun.after, before.watermark);
    assert.deepEqual(await watermark(), before);
    assert.equal(await lockHolder(), undefined);

    // Terminated: nothing in the workflow runs, so its lock stays behind; restarted with the same id.
    blocker = await blockSource();
    const terminatedId = newId('terminated');
    try {
      const handle = await start({ mode: 'incremental' }, terminatedId);
      await waitFor('the run to take the pipeline lock', async () => (await lockHolder()) === terminatedId, 60_000, 200);
      await handle.terminate('test: operator terminated the run');
    } finally {
      await blocker.release();
    }
    assert.deepEqual(await watermark(), before, 'a terminated run does not move the watermark');
    assert.equal(await lockHolder(), terminatedId, 'a terminated run cannot release its lock');
    const again = await runCli(config, ['incremental', '--id', terminatedId, '--wait', '--json'], 300_000);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal(again.json.status, 'COMPLETED');
    assert.equal(again.json.watermarkBefore, before.watermark);
    const runs = (await staging.query(`SELECT run_id, status, error FROM migration_run WHERE workflow_id = $1 ORDER BY run_id`, [terminatedId])).rows;
    assert.equal(runs.length, 2);
    assert.equal(runs[0].status, 'FAILED');
    assert.match(runs[0].error, /terminated/);
    assert.equal(runs[1].status, 'COMPLETED');
    const landed = (
      await destination.query(
        `SELECT count(*)::int AS n FROM customer_profile WHERE "customerNumber"::int = ANY($1::int[]) AND "customerProfileData" -> 'address' ->> 'line2' = 'cancel ' || ("customerNumber"::int)`,
        [codes],
      )
    ).rows[0].n;
    assert.equal(landed, codes.length);

    // Temporal cannot stop an activity of a terminated run: if its extraction goes on after another
    // run took over, it must not re-label the rows that run staged.
    const activities = createActivities({ pools: worker.pools, mapping: worker.mapping, config, temporal: servers.temporal.client, searchAttributes: false });
    const stagedBy = async (runId: number) =>
      (await staging.query(`SELECT count(*)::int AS n FROM stg_customer WHERE extracted_run_id = $1`, [runId])).rows[0].n;
    const laterRunRows = await stagedBy(runs[1].run_id);
    assert.ok(laterRunRows > 0);
    const zombie = new MockActivityEnvironment({ attempt: 1 });
    const stopped = await zombie.run(activities.extract, { runId: runs[0].run_id, since: null, chunkSize: 1000 }).then(
      () => assert.fail('the extraction of an ended run must stop'),
      (err: unknown) => err,
    );
    assert.ok(stopped instanceof ApplicationFailure && stopped.type === 'RunNotActive', String(stopped));
    assert.equal(await stagedBy(runs[1].run_id), laterRunRows, 'the later run keeps its staged rows');
  });
});
