/**
 * Contract 5.1, "the source is the truth": after restores, future-dated rows, concurrent writers,
 * tampering, cancelled and terminated runs and mixed mapping files, either the destination equals
 * the contract applied to the source, or the run's reconciliation says it does not.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client as PgClient, type Pool } from 'pg';
import { TestServers, useTestServers } from '../support/servers';
import { destinationDigest, pool, RunningWorker, runMigration, startWorker, testConfig } from '../support/harness';
import { runCli } from '../support/cli';
import { adminQuery, sleep, slowInserts, fastInserts, until } from '../support/processes';
import { seedSource } from '../../stack/seed';
import { PROJECT_ROOT, type AppConfig } from '../../config/env';
import { MigrationInput, MigrationResult, WORKFLOW_TYPE } from '../../workflows/definitions';

describe('the source is the truth: contract 5.1 (real Temporal dev server + PostgreSQL)', function () {
  this.timeout(600_000);
  const shared = useTestServers({ resetBeforeEach: true });
  let servers: TestServers;
  let source: Pool;
  let staging: Pool;
  let destination: Pool;
  const workers: RunningWorker[] = [];
  let counter = 0;

  const configFor = (overrides: Record<string, string> = {}): AppConfig =>
    testConfig(servers.urls, servers.temporal.address, { BATCH_SIZE: '250', ...overrides });
  const worker = async (config: AppConfig) => {
    const w = await startWorker(config, servers.temporal.nativeConnection, servers.temporal.client);
    workers.push(w);
    return w;
  };
  const workflowId = (what: string) => `source-truth-${what}-${process.pid}-${++counter}`;
  const run = (config: AppConfig, input: MigrationInput) => runMigration(servers.temporal.client, config, input, workflowId(input.mode));
  const start = (config: AppConfig, input: MigrationInput, id = workflowId(input.mode)) =>
    servers.temporal.client.workflow.start(WORKFLOW_TYPE, { taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId: id, args: [input] });
  const seed = (rows: number, seedNo = 11) => seedSource({ sourceUrl: servers.urls.source, stagingUrl: servers.urls.staging, rows, seed: seedNo });
  const check = (result: MigrationResult, name: string) => result.reconciliation?.checks.find((c) => c.name === name);
  const completed = (result: MigrationResult) =>
    assert.equal(
      result.status,
      'COMPLETED',
      JSON.stringify({ status: result.status, error: result.error, checks: result.reconciliation?.checks.filter((c) => !c.ok) }),
    );
  /** Every source code is loaded (a destination row) or rejected by the given run, and nothing else is in the destination. */
  const everySourceRowLoadedOrRejected = async (runId: number) => {
    const codes = (await source.query(`SELECT customer_code AS c FROM efz_customer ORDER BY 1`)).rows.map((r) => Number(r.c));
    const loaded = new Set((await destination.query(`SELECT "customerNumber"::int AS c FROM customer_profile`)).rows.map((r) => Number(r.c)));
    const rejected = new Set(
      (await staging.query(`SELECT customer_code AS c FROM migration_issue WHERE run_id = $1 AND severity = 'REJECT'`, [runId])).rows.map((r) => Number(r.c)),
    );
    const lost = codes.filter((c) => !loaded.has(c) && !rejected.has(c));
    assert.deepEqual(lost.slice(0, 20), [], `${lost.length} source row(s) neither loaded nor rejected`);
    assert.equal(loaded.size + rejected.size, codes.length, 'source rows = loaded + rejected');
  };
  const destEmail = async (code: number): Promise<string | null | undefined> =>
    (await destination.query(`SELECT "customerProfileData"->>'email' AS e FROM customer_profile WHERE "customerNumber" = $1`, [String(code).padStart(10, '0')]))
      .rows[0]?.e;
  /** Loaded (not rejected) codes of a run, ascending. */
  const loadedCodes = async () => (await destination.query(`SELECT "customerNumber"::int AS c FROM customer_profile ORDER BY 1`)).rows.map((r) => Number(r.c));

  before(() => {
    servers = shared();
    [source, staging, destination] = [pool(servers.urls.source), pool(servers.urls.staging), pool(servers.urls.destination)];
  });
  afterEach(async () => {
    await Promise.allSettled(workers.splice(0).map((w) => w.stop()));
    await fastInserts(servers.urls.staging, 'stg_customer');
  });
  after(async () => {
    await Promise.allSettled([source?.end(), staging?.end(), destination?.end()]);
  });

  it('a source restored to an earlier state is mirrored by a full run: every row loaded or rejected, the destination as on the first load', async () => {
    const ROWS = 3000;
    const config = configFor();
    await worker(config);
    await seed(ROWS);
    const first = await run(config, { mode: 'full' });
    completed(first);
    const clean = await destinationDigest(destination);

    await source.query(
      `UPDATE efz_customer SET email = 'changed' || customer_code || '@example.com', updated_at = clock_timestamp() WHERE customer_code <= 300`,
    );
    completed(await run(config, { mode: 'incremental' }));
    assert.notDeepEqual(await destinationDigest(destination), clean, 'the incremental run migrated the changes');

    // The rehearsal's restore: the same rows as before, with their older updated_at; an emptied destination.
    await seed(ROWS);
    await destination.query('TRUNCATE customer_profile, customer');
    const rehearsal = await run(config, { mode: 'full' });
    completed(rehearsal);
    assert.equal(rehearsal.counts.extracted, ROWS);
    assert.equal(rehearsal.counts.staged, ROWS, 'a full run stages every source row, whatever the staged updated_at said');
    assert.equal(rehearsal.counts.loaded + rehearsal.counts.rejected, ROWS);
    assert.ok(check(rehearsal, 'staged_equals_source_snapshot')?.ok);
    await everySourceRowLoadedOrRejected(rehearsal.runId!);
    assert.deepEqual(await destinationDigest(destination), clean, 'both tables, every column, as the full run into empty staging and destination made them');
  });

  it('future-dated and infinity updated_at rows are loaded and listed, and never hide a later change from incremental runs', async () => {
    const config = configFor();
    await worker(config);
    await seed(1500, 12);
    completed(await run(config, { mode: 'full' }));
    const [future, forever, later] = (await loadedCodes()).slice(10, 13);
    await source.query(`UPDATE efz_customer SET email = 'future@example.com', updated_at = '2099-01-01' WHERE customer_code = $1`, [future]);
    await source.query(`UPDATE efz_customer SET email = 'forever@example.com', updated_at = 'infinity' WHERE customer_code = $1`, [forever]);

    const second = await run(config, { mode: 'incremental' });
    completed(second);
    assert.equal(await destEmail(future), 'future@example.com');
    assert.equal(await destEmail(forever), 'forever@example.com');
    assert.deepEqual(second.reconciliation?.futureDated, { count: 2, examples: [future, forever].sort((a, b) => a - b) });
    const runRow = (await staging.query(`SELECT snapshot_at, watermark_after FROM migration_run WHERE run_id = $1`, [second.runId])).rows[0];
    assert.equal(runRow.watermark_after, runRow.snapshot_at, 'the watermark is the snapshot time of the source');
    assert.ok(runRow.watermark_after < '2099', `watermark ${runRow.watermark_after} is not the future row's`);
    const report = await runCli(config, ['report', String(second.runId), '--json']);
    assert.equal(report.code, 0, report.stderr);
    assert.equal(report.json.futureDated.count, 2);
    assert.equal(report.json.watermark.snapshotAt, runRow.snapshot_at);
    const text = await runCli(config, ['report', String(second.runId)]);
    assert.match(text.stdout, /future-dated .*: 2, codes/);
    assert.match(text.stdout, /source snapshot taken at /);

    await source.query(`UPDATE efz_customer SET email = 'later@example.com', updated_at = clock_timestamp() WHERE customer_code = $1`, [later]);
    const third = await run(config, { mode: 'incremental' });
    completed(third);
    assert.equal(await destEmail(later), 'later@example.com', 'an ordinary change after a future-dated row is migrated');
  });

  it('rows changed by a concurrent writer during a long full extraction are all migrated, with their latest values, by the next incremental run', async () => {
    const ROWS = 2000;
    const config = configFor({ EXTRACT_CHUNK_SIZE: '100', INCREMENTAL_LOOKBACK_SECONDS: '1' });
    await worker(config);
    await seed(ROWS, 13);
    await slowInserts(servers.urls.staging, 'stg_customer', 0.25); // 20 chunks: ~5 s of extraction
    const handle = await start(config, { mode: 'full' });
    const phase = async () => (await staging.query(`SELECT phase FROM migration_run WHERE workflow_id = $1`, [handle.workflowId])).rows[0]?.phase;
    await until('the extraction started', async () => (await phase()) === 'extracting');
    // One update at a time across the whole key range, each its own transaction, until the extraction ends.
    const written = new Set<number>();
    const writer = new PgClient({ connectionString: servers.urls.source, options: '-c TimeZone=UTC' });
    await writer.connect();
    try {
      for (let i = 1; (await phase()) === 'extracting'; i++) {
        const code = 1 + ((i * 7919) % ROWS);
        await writer.query(`UPDATE efz_customer SET email = $2, updated_at = clock_timestamp() WHERE customer_code = $1`, [code, `w${i}.c${code}@example.com`]);
        written.add(code);
        await sleep(10);
      }
    } finally {
      await writer.end();
    }
    await fastInserts(servers.urls.staging, 'stg_customer');
    completed(await handle.result());
    assert.ok(written.size >= 50, `the writer changed ${written.size} rows during the extraction`);

    completed(await run(config, { mode: 'incremental' }));
    const loaded = new Set(await loadedCodes());
    const checked = [...written].filter((c) => loaded.has(c));
    assert.ok(checked.length >= 40, `${checked.length} written rows are loadable`);
    const sourceEmails = new Map(
      (await source.query(`SELECT customer_code AS c, email FROM efz_customer WHERE customer_code = ANY($1)`, [checked])).rows.map((r) => [
        Number(r.c),
        r.email,
      ]),
    );
    const stale = [];
    for (const code of checked) if ((await destEmail(code)) !== sourceEmails.get(code)) stale.push(code);
    assert.deepEqual(stale, [], 'every concurrently written row holds its latest value');
  });

  it('a staged row altered between extraction and load fails the reconciliation, which names its key', async () => {
    const config = configFor();
    await worker(config);
    await seed(1500, 14);
    // Hold the destination so that the run waits at its first batch, after the extraction.
    const blocker = new PgClient({ connectionString: servers.urls.destination });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE customer IN ACCESS EXCLUSIVE MODE');
    try {
      const handle = await start(config, { mode: 'full' });
      const id = handle.workflowId;
      await until(
        'the run loading',
        async () => (await staging.query(`SELECT phase FROM migration_run WHERE workflow_id = $1`, [id])).rows[0]?.phase === 'loading',
      );
      // A valid row late in the key range (its batch has not been mapped yet): only its email changes.
      const victim = (await staging.query(`SELECT customer_code AS c FROM stg_customer WHERE email LIKE '%@%.%' ORDER BY customer_code DESC LIMIT 1 OFFSET 5`))
        .rows[0].c;
      await staging.query(`UPDATE stg_customer SET email = 'intruder@example.com' WHERE customer_code = $1`, [victim]);
      await blocker.query('COMMIT');
      const result: MigrationResult = await handle.result();
      assert.equal(result.status, 'RECONCILIATION_FAILED');
      const failed = check(result, 'staged_equals_source_snapshot')!;
      assert.equal(failed.ok, false);
      assert.deepEqual(failed.examples, [Number(victim)]);
      assert.match(failed.detail, /1 staged row\(s\) differ from the source row read/);
      const report = await runCli(config, ['report', id]);
      assert.match(report.stdout, /FAIL {2}staged_equals_source_snapshot: .*\(codes \d+\)/);
      assert.match(report.stdout, /sign-off: NOT READY/);
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      await blocker.end();
    }
  });

  describe('a cancelled or terminated run commits nothing after the next run has taken the pipeline lock', () => {
    beforeEach(async () => {
      // Destination commits are slow (a deferred trigger sleeps once per transaction, at COMMIT) and
      // logged with the writing run and the commit time; staging logs when a run takes the lock.
      await adminQuery(
        servers.urls.destination,
        `CREATE TABLE IF NOT EXISTS test_write_log (run_id text, at timestamptz NOT NULL);
         CREATE OR REPLACE FUNCTION test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN IF current_setting('test.slept', true) IS DISTINCT FROM 'yes' THEN PERFORM pg_sleep(0.7); PERFORM set_config('test.slept', 'yes', true); END IF; RETURN NULL; END $$;
         CREATE OR REPLACE FUNCTION test_log_write() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN INSERT INTO test_write_log VALUES (current_setting('customer_migration.run_id', true), clock_timestamp()); RETURN NULL; END $$;
         DROP TRIGGER IF EXISTS a_test_slow_commit ON customer;
         DROP TRIGGER IF EXISTS b_test_log_write ON customer;
         CREATE CONSTRAINT TRIGGER a_test_slow_commit AFTER INSERT OR UPDATE ON customer DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_slow_commit();
         CREATE CONSTRAINT TRIGGER b_test_log_write AFTER INSERT OR UPDATE ON customer DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_log_write();`,
      );
      await adminQuery(
        servers.urls.staging,
        `CREATE TABLE IF NOT EXISTS test_lock_log (run_id bigint, at timestamptz NOT NULL);
         CREATE OR REPLACE FUNCTION test_log_lock() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN IF NEW.run_id IS NOT NULL THEN INSERT INTO test_lock_log VALUES (NEW.run_id, clock_timestamp()); END IF; RETURN NULL; END $$;
         DROP TRIGGER IF EXISTS test_log_lock ON migration_lock;
         CREATE CONSTRAINT TRIGGER test_log_lock AFTER INSERT OR UPDATE ON migration_lock DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_log_lock();`,
      );
    });
    afterEach(async () => {
      await adminQuery(servers.urls.destination, `DROP TRIGGER IF EXISTS a_test_slow_commit ON customer; DROP TRIGGER IF EXISTS b_test_log_write ON customer`);
      await adminQuery(servers.urls.staging, `DROP TRIGGER IF EXISTS test_log_lock ON migration_lock`);
    });

    /** Starts a run, waits until it is in the middle of its load, ends it with `end`, and starts the next one. */
    async function replaceMidLoad(end: 'cancel' | 'terminate') {
      const config = configFor({ BATCH_SIZE: '100' });
      await worker(config);
      await seed(2000, 15);
      const first = await start(config, { mode: 'full', parallelism: 2 });
      const firstRun = await until(
        'the first run loading',
        async () => {
          const r = (
            await staging.query(
              `SELECT r.run_id, count(*) FILTER (WHERE b.status = 'DONE')::int AS done FROM migration_run r JOIN migration_batch b USING (run_id) WHERE r.workflow_id = $1 GROUP BY r.run_id`,
              [first.workflowId],
            )
          ).rows[0];
          return r && r.done >= 2 ? Number(r.run_id) : undefined;
        },
        120_000,
        50,
      );
      // Just after a batch begins its slow commit.
      await until(
        'a batch in its commit',
        async () => (await destination.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = current_database()`)).rowCount! > 0,
        30_000,
        20,
      );
      if (end === 'cancel') {
        await first.cancel();
        await until('the cancelled run closed', async () => (await first.describe()).status.name !== 'RUNNING', 60_000, 50);
      } else {
        await first.terminate('test: replaced by the next run');
      }
      const second = await start(config, { mode: 'full', parallelism: 2 });
      const result: MigrationResult = await second.result();
      completed(result);
      const takenAt = (await adminQuery(servers.urls.staging, `SELECT min(at) AS at FROM test_lock_log WHERE run_id = $1`, [result.runId]))[0].at;
      const writes = await adminQuery(
        servers.urls.destination,
        `SELECT count(*) FILTER (WHERE run_id = $1)::int AS first_writes, count(*) FILTER (WHERE run_id = $1 AND at >= $3)::int AS late_writes,
                count(*) FILTER (WHERE run_id = $2)::int AS second_writes
         FROM test_write_log`,
        [String(firstRun), String(result.runId), takenAt],
      );
      assert.ok(takenAt, 'the second run took the lock');
      assert.ok(writes[0].first_writes > 0 && writes[0].second_writes > 0, JSON.stringify(writes));
      assert.equal(writes[0].late_writes, 0, `the ${end === 'cancel' ? 'cancelled' : 'terminated'} run committed rows after the next run took the lock`);
      const status = (await staging.query(`SELECT status FROM migration_run WHERE run_id = $1`, [firstRun])).rows[0].status;
      assert.equal(status, end === 'cancel' ? 'CANCELLED' : 'FAILED');
      await everySourceRowLoadedOrRejected(result.runId!);
    }

    it('cancel, then the next run as soon as the first has ended', () => replaceMidLoad('cancel'));
    it('terminate (batches left running in the worker), then the next run at once', () => replaceMidLoad('terminate'));
  });

  it('two workers whose mapping files differ in one default fail the run on the fingerprint check, naming the batches', async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'mapping-'));
    const otherFile = path.join(other, 'customer-mapping.json');
    const text = fs.readFileSync(path.join(PROJECT_ROOT, 'mapping', 'customer-mapping.json'), 'utf8');
    assert.match(text, /"approvalStatus": +\{ "const": "APPROVED" \}/);
    fs.writeFileSync(otherFile, text.replace(/("approvalStatus": +\{ "const": )"APPROVED"/, '$1"PENDING"'));
    try {
      const configA = configFor({ BATCH_SIZE: '100' });
      const configB = { ...configA, MAPPING_FILE: otherFile };
      const a = await worker(configA);
      await seed(2000, 16);
      await slowInserts(servers.urls.staging, 'migration_issue', 0.2); // each batch takes a fifth of a second or more
      const handle = await start(configA, { mode: 'full', parallelism: 1 });
      await until(
        'a few batches loaded by worker A',
        async () => {
          const r = (
            await staging.query(
              `SELECT count(*)::int AS n FROM migration_batch b JOIN migration_run r USING (run_id) WHERE r.workflow_id = $1 AND b.status = 'DONE'`,
              [handle.workflowId],
            )
          ).rows[0];
          return r.n >= 3;
        },
        120_000,
        50,
      );
      // Worker A leaves mid-load (one in-process worker per task queue) and B, with the other file, goes on.
      await a.stop();
      await worker(configB);
      await fastInserts(servers.urls.staging, 'migration_issue');
      const result: MigrationResult = await handle.result();
      assert.equal(result.status, 'RECONCILIATION_FAILED');
      const fingerprint = check(result, 'one_mapping_fingerprint')!;
      assert.equal(fingerprint.ok, false);
      assert.match(fingerprint.detail, /batch\(es\) loaded under another fingerprint than the run's \(mappingSha256 differ\): batch\(es\) \d+/);
      const batchesB = (
        await staging.query(
          `SELECT batch_no FROM migration_batch WHERE run_id = $1 AND fingerprint->>'mappingSha256' <> (SELECT fingerprint->>'mappingSha256' FROM migration_run WHERE run_id = $1) ORDER BY 1`,
          [result.runId],
        )
      ).rows.map((r) => r.batch_no);
      assert.ok(batchesB.length > 0);
      assert.ok(fingerprint.detail.includes(`batch(es) ${batchesB.slice(0, 20).join(', ')}`), fingerprint.detail);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
      await fastInserts(servers.urls.staging, 'migration_issue');
    }
  });
});
