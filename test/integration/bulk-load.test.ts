/**
 * The bulk path of a cutover's first load: a full run into empty tables drops the destination's
 * keys and rebuilds them at the end. Whatever ends the run, the keys come back exactly as they were
 * (compared from the catalog) and the destination equals what the upsert path writes.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { Pool } from 'pg';
import { TestServers, useTestServers } from '../support/servers';
import { destinationDigest, pool, RunningWorker, runMigration, startWorker, testConfig } from '../support/harness';
import { runCli } from '../support/cli';
import { adminQuery, fastInserts, serviceEnv, slowInserts, startWorkerProcess, until, WorkerProcess } from '../support/processes';
import { readKeys, type TableKey } from '../../db/destination/keys';
import { createBulkLoad } from '../../activities/bulk-load';
import { seedSource } from '../../stack/seed';
import type { AppConfig } from '../../config/env';
import { MigrationInput, MigrationResult, progressQuery, WORKFLOW_TYPE } from '../../workflows/definitions';

const ROWS = 2000;
const TABLES = ['customer', 'customer_profile'];

describe('the bulk path: keys dropped for the first load and rebuilt whatever ends the run (real Temporal + PostgreSQL)', function () {
  this.timeout(600_000);
  const shared = useTestServers();
  let servers: TestServers;
  let staging: Pool;
  let destination: Pool;
  let keysBefore: TableKey[];
  let reference: Awaited<ReturnType<typeof destinationDigest>>;
  const inProcess: RunningWorker[] = [];
  const processes: WorkerProcess[] = [];
  let counter = 0;

  const configFor = (overrides: Record<string, string> = {}): AppConfig =>
    testConfig(servers.urls, servers.temporal.address, { BATCH_SIZE: '200', PIPELINE: `bulk_${process.pid}_${++counter}`, ...overrides });
  const worker = async (config: AppConfig) => {
    const w = await startWorker(config, servers.temporal.nativeConnection, servers.temporal.client);
    inProcess.push(w);
    return w;
  };
  const start = (config: AppConfig, input: Partial<MigrationInput> = {}): Promise<WorkflowHandle> =>
    servers.temporal.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowId: `bulk-${config.PIPELINE}-${Date.now()}`,
      args: [{ mode: 'full', pipeline: config.PIPELINE, ...input } satisfies MigrationInput],
    });
  const keysNow = () => readKeys(destination, 'public', TABLES);
  const emptyDestination = () => destination.query('TRUNCATE customer_profile, customer');
  const runOf = async (workflowId: string) =>
    (
      await staging.query(
        `SELECT r.run_id, r.status, r.error, r.load_path, b.state AS keys_state, b.error AS keys_error
       FROM migration_run r LEFT JOIN migration_bulk_load b USING (run_id) WHERE r.workflow_id = $1 ORDER BY r.run_id DESC LIMIT 1`,
        [workflowId],
      )
    ).rows[0];
  /** Waits until the run loads with keys dropped and at least `done` batches committed. */
  const midBulkLoad = (workflowId: string, done = 2) =>
    until(
      `${workflowId} in the middle of its bulk load`,
      async () => {
        const r = (
          await staging.query(
            `SELECT b.state, (SELECT count(*)::int FROM migration_batch x WHERE x.run_id = r.run_id AND x.status = 'DONE') AS done,
                (SELECT count(*)::int FROM migration_batch x WHERE x.run_id = r.run_id) AS total
         FROM migration_run r JOIN migration_bulk_load b USING (run_id) WHERE r.workflow_id = $1`,
            [workflowId],
          )
        ).rows[0];
        return r && r.state === 'DROPPED' && r.done >= done && r.done < r.total ? r : undefined;
      },
      120_000,
      50,
    );

  /** Empty tables, slow destination inserts (a batch takes a third of a second), a worker, a run in the middle of its bulk load. */
  const midBulkLoadRun = async () => {
    await emptyDestination();
    const config = configFor();
    await worker(config);
    await slowInserts(servers.urls.destination, 'customer', 0.3);
    const handle = await start(config);
    await midBulkLoad(handle.workflowId);
    return { config, handle };
  };

  before(async () => {
    servers = shared();
    [staging, destination] = [pool(servers.urls.staging), pool(servers.urls.destination)];
    await seedSource({ sourceUrl: servers.urls.source, stagingUrl: servers.urls.staging, rows: ROWS, seed: 21 });
    keysBefore = await keysNow();
    assert.equal(keysBefore.length, 5, JSON.stringify(keysBefore));
    // The reference: the upsert path into empty tables (it also gives every code its ids).
    const off = configFor({ BULK_LOAD: 'off' });
    await worker(off);
    const result = await runMigration(servers.temporal.client, off, { mode: 'full', pipeline: off.PIPELINE });
    assert.equal(result.status, 'COMPLETED');
    const path = (await staging.query(`SELECT load_path FROM migration_run WHERE run_id = $1`, [result.runId])).rows[0].load_path;
    assert.deepEqual(path, { path: 'upsert', reason: 'BULK_LOAD=off' });
    reference = await destinationDigest(destination);
  });
  afterEach(async () => {
    await Promise.allSettled([...inProcess.splice(0).map((w) => w.stop()), ...processes.splice(0).map((p) => p.stop())]);
    await fastInserts(servers.urls.destination, 'customer');
    // Every test leaves the keys as they were, or repairs them itself.
    assert.deepEqual(await keysNow(), keysBefore, 'the destination keys are as before the test');
  });
  after(async () => {
    await Promise.allSettled([staging?.end(), destination?.end()]);
  });

  it('a full run into empty tables takes the bulk path, rebuilds every key as it was, and writes what the upsert path writes', async () => {
    await emptyDestination();
    const config = configFor();
    await worker(config);
    const handle = await start(config);
    const result: MigrationResult = await handle.result();
    assert.equal(result.status, 'COMPLETED', JSON.stringify(result.reconciliation?.checks.filter((c) => !c.ok)));
    const run = await runOf(handle.workflowId);
    assert.equal(run.load_path.path, 'bulk');
    assert.equal(run.keys_state, 'RESTORED');
    assert.deepEqual(await keysNow(), keysBefore, 'primary, unique and foreign keys exactly as the catalog had them');
    assert.deepEqual(await destinationDigest(destination), reference, 'both tables, every column, as the upsert path wrote them');
    const report = await runCli(config, ['report', handle.workflowId]);
    assert.match(
      report.stdout,
      /load path: bulk \(both destination tables were empty: 5 key\(s\) dropped, rebuilt after the load\); keys rebuilt and verified at /,
    );
    assert.match(report.stdout, /sign-off: READY/);

    // Into tables that hold rows: the upsert path, and the report says why.
    const again = await start(config);
    assert.equal(((await again.result()) as MigrationResult).status, 'COMPLETED');
    const second = await runOf(again.workflowId);
    assert.equal(second.load_path.path, 'upsert');
    assert.match(second.load_path.reason, /customer holds rows/);
    assert.equal(second.keys_state, null, 'nothing was dropped');
    assert.deepEqual(await destinationDigest(destination), reference);
  });

  it('a worker killed in the middle of a bulk load, then restarted: keys rebuilt, the destination complete', async () => {
    await emptyDestination();
    const config = configFor();
    await slowInserts(servers.urls.destination, 'customer', 0.3);
    processes.push(await startWorkerProcess(serviceEnv(config)));
    const handle = await start(config);
    await midBulkLoad(handle.workflowId);
    await processes[0].kill('SIGKILL');
    await fastInserts(servers.urls.destination, 'customer');
    processes.push(await startWorkerProcess(serviceEnv(config)));
    const result: MigrationResult = await handle.result();
    assert.equal(result.status, 'COMPLETED', JSON.stringify(result.reconciliation?.checks.filter((c) => !c.ok)));
    assert.equal((await runOf(handle.workflowId)).keys_state, 'RESTORED');
    assert.deepEqual(await keysNow(), keysBefore);
    assert.deepEqual(await destinationDigest(destination), reference, 'every batch replaced exactly its own rows');
  });

  it('a run aborted after failed batches rebuilds the keys before it waits for the decision', async () => {
    await emptyDestination();
    const config = configFor();
    await worker(config);
    await adminQuery(
      servers.urls.destination,
      `CREATE OR REPLACE FUNCTION test_refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'test: refused'; END $$;
       DROP TRIGGER IF EXISTS test_refuse_one ON customer_profile;
       CREATE TRIGGER test_refuse_one BEFORE INSERT ON customer_profile FOR EACH ROW WHEN (NEW."customerNumber" = '0000000700') EXECUTE FUNCTION test_refuse_one();`,
    );
    try {
      const handle = await start(config, { loadAttempts: 2 });
      await until('the run waiting for a decision', async () => (await handle.query(progressQuery)).phase === 'awaiting-decision', 120_000, 200);
      assert.equal((await runOf(handle.workflowId)).keys_state, 'RESTORED', 'the keys are back while the run waits');
      assert.deepEqual(await keysNow(), keysBefore);
      const aborted = await runCli(config, ['abort', handle.workflowId, '--reason', 'test']);
      assert.equal(aborted.code, 0, aborted.stderr);
      assert.equal(((await handle.result()) as MigrationResult).status, 'ABORTED');
    } finally {
      await adminQuery(servers.urls.destination, `DROP TRIGGER IF EXISTS test_refuse_one ON customer_profile`);
    }
  });

  it('a run cancelled in the middle of its bulk load rebuilds the keys as it ends', async () => {
    const { handle } = await midBulkLoadRun();
    await handle.cancel();
    await handle.result().catch(() => undefined);
    const run = await runOf(handle.workflowId);
    assert.equal(run.status, 'CANCELLED');
    assert.equal(run.keys_state, 'RESTORED');
  });

  it('a run terminated in the middle of its bulk load: repair-constraints rebuilds the keys by hand, idempotently', async () => {
    const { config, handle } = await midBulkLoadRun();
    await handle.terminate('test: terminated mid bulk load');
    assert.ok((await keysNow()).length < keysBefore.length, 'the keys are still dropped');
    const repaired = await runCli(config, ['repair-constraints', handle.workflowId]);
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.match(repaired.stdout, /5 destination key\(s\) rebuilt and verified/);
    assert.deepEqual(await keysNow(), keysBefore);
    const again = await runCli(config, ['repair-constraints', handle.workflowId, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json.outcome, 'already-restored');
  });

  it('a prepare retried after an attempt that dropped the keys but was lost keeps the first saved definitions', async () => {
    await emptyDestination();
    const config = configFor();
    const w = await worker(config);
    const bulk = createBulkLoad({ pools: w.pools, mapping: w.mapping, config });
    // A run that holds its pipeline's lock, as beginRun leaves it (the fence checks the lock).
    const runId = Number(
      (
        await staging.query(
          `INSERT INTO migration_run (pipeline, workflow_id, temporal_run_id, mode, run_date) VALUES ($1, $2, $2, 'full', current_date) RETURNING run_id`,
          [config.PIPELINE, `lost-prepare-${counter}`],
        )
      ).rows[0].run_id,
    );
    await staging.query(`INSERT INTO migration_lock (pipeline, workflow_id, temporal_run_id, run_id) VALUES ($1, $2, $2, $3)`, [
      config.PIPELINE,
      `lost-prepare-${counter}`,
      runId,
    ]);
    try {
      assert.equal((await bulk.prepareLoadPath({ runId })).path, 'bulk');
      assert.equal((await keysNow()).length, 0);
      // The attempt is lost before it recorded its outcome: the retry starts from the top.
      await staging.query(`UPDATE migration_run SET load_path = NULL WHERE run_id = $1`, [runId]);
      await staging.query(`UPDATE migration_bulk_load SET state = 'DROPPING' WHERE run_id = $1`, [runId]);
      assert.equal((await bulk.prepareLoadPath({ runId })).path, 'bulk');
      const saved = (await staging.query(`SELECT keys FROM migration_bulk_load WHERE run_id = $1`, [runId])).rows[0].keys;
      assert.deepEqual(saved, keysBefore, 'the definitions saved first, not the key-less catalog of the retry');

      // Lost again, and now another writer has put a row in: the run upserts, with its keys back first.
      await staging.query(`UPDATE migration_run SET load_path = NULL WHERE run_id = $1`, [runId]);
      await destination.query(
        `INSERT INTO customer SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'B', gen_random_uuid(), 'A', gen_random_uuid(), 'I',
                'INDIVIDUAL', 'RETAIL', NULL, 'ACTIVE', 'APPROVED', false, false, false, false, now(), now()`,
      );
      const path = await bulk.prepareLoadPath({ runId });
      assert.equal(path.path, 'upsert');
      assert.match(path.reason, /customer holds rows/);
      assert.deepEqual(await keysNow(), keysBefore);
    } finally {
      await staging.query(`UPDATE migration_run SET status = 'FAILED', finished_at = now() WHERE run_id = $1`, [runId]);
      await staging.query(`DELETE FROM migration_lock WHERE run_id = $1`, [runId]);
    }
  });

  it('a rebuild that finds a duplicate key fails the run, naming the key and the value; repaired after the fix', async () => {
    const { config, handle } = await midBulkLoadRun();
    // Another writer adds a profile whose customer number a loaded customer already has.
    const taken = (await destination.query(`SELECT "customerNumber" AS n FROM customer_profile ORDER BY 1 LIMIT 1`)).rows[0].n;
    await destination.query(
      `INSERT INTO customer_profile SELECT $1, $2, "customerNumber", bvn, "customerProfileData", "createdAt", "updatedAt" FROM customer_profile WHERE "customerNumber" = $3`,
      [randomUUID(), randomUUID(), taken],
    );
    await fastInserts(servers.urls.destination, 'customer');
    // The workflow's failure, caused by the activity's failure, caused by the rebuild's ApplicationFailure.
    const failed = await handle.result().then(
      () => assert.fail('the run must fail'),
      (err: Error & { cause?: Error & { cause?: Error } }) => err.cause?.cause?.message ?? err.cause?.message ?? err.message,
    );
    assert.match(failed, new RegExp(`customer_profile\\.customer_profile_customerNumber_key .*duplicate values, first 1: ${taken}`));
    const run = await runOf(handle.workflowId);
    assert.equal(run.status, 'FAILED');
    assert.equal(run.keys_state, 'FAILED');
    const report = await runCli(config, ['report', handle.workflowId]);
    assert.match(report.stdout, /repair-constraints/);

    await destination.query(
      `DELETE FROM customer_profile p WHERE "customerNumber" = $1 AND NOT EXISTS (SELECT 1 FROM customer c WHERE c."customerId" = p."customerId")`,
      [taken],
    );
    const repaired = await runCli(config, ['repair-constraints', handle.workflowId]);
    assert.equal(repaired.code, 0, repaired.stderr + repaired.stdout);
    assert.deepEqual(await keysNow(), keysBefore);
  });
});
