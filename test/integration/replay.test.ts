/**
 * Workflow determinism across deployments: a worker upgraded during a cutover weekend must not break
 * the runs that are open. Histories of real runs, recorded into test/histories/ by the code of their
 * day, are replayed against the current workflow bundle; a change that would make an open run take
 * another path fails here. Such a change goes behind `patched('…')` (every patch id lives in
 * workflows/run/patches.ts), and new histories are recorded once it has shipped (--grep picks one):
 *
 *   npm run -s build && RECORD_HISTORIES=1 npx mocha --timeout 600000 --exit dist/test/integration/replay.test.js
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { PROJECT_ROOT } from '../../config/env';
import { workflowCode } from '../../worker/create';
import { TestServers, useTestServers } from '../support/servers';
import { RunningWorker, startWorker, testConfig } from '../support/harness';
import { adminQuery, until } from '../support/processes';
import { seedSource } from '../../stack/seed';
import { abortUpdate, MigrationInput, progressQuery, retryFailedBatchesUpdate, WORKFLOW_TYPE } from '../../workflows/definitions';

const HISTORIES = path.join(PROJECT_ROOT, 'test', 'histories');
/**
 * Histories are kept in protobuf's binary form: the SDK's JSON reader trips over the two copies of
 * protobufjs that npm installs for @temporalio/common and @temporalio/proto ("type must be a Type").
 */
const EXTENSION = '.binpb';
const History = temporal.api.history.v1.History;

describe('workflow determinism: recorded histories replay against the current workflow code', () => {
  it('replays every recorded history (full, incremental, failed batch + retry, abort, cancel, continue-as-new) without a nondeterminism error', async function () {
    this.timeout(180_000); // bundling the workflow code on the fly, where the build's bundle is missing
    const files = fs
      .readdirSync(HISTORIES)
      .filter((f) => f.endsWith(EXTENSION))
      .sort();
    assert.ok(files.length >= 7, `recorded histories: ${files.join(', ')}`);
    const histories = files.map((f) => ({ workflowId: f.slice(0, -EXTENSION.length), history: History.decode(fs.readFileSync(path.join(HISTORIES, f))) }));
    const replayed: string[] = [];
    for await (const result of Worker.runReplayHistories(workflowCode(), histories)) {
      assert.equal(result.error, undefined, `${result.workflowId}: ${result.error?.message}`);
      replayed.push(result.workflowId);
    }
    assert.deepEqual(replayed.sort(), histories.map((h) => h.workflowId).sort());
  });
});

if (process.env.RECORD_HISTORIES) {
  describe('recording workflow histories into test/histories/', function () {
    this.timeout(600_000);
    const shared = useTestServers();
    let servers: TestServers;
    let worker: RunningWorker;
    const config = () => worker.config;
    const start = (name: string, input: MigrationInput) =>
      servers.temporal.client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: config().TEMPORAL_TASK_QUEUE,
        workflowId: `replay-${name}-${Date.now()}`,
        args: [input],
      });
    /** The history of one execution: the latest, or the one with `runId` (a run that continued as new has several). */
    const save = async (name: string, workflowId: string, runId?: string) => {
      const history = await servers.temporal.client.workflow.getHandle(workflowId, runId).fetchHistory();
      fs.mkdirSync(HISTORIES, { recursive: true });
      fs.writeFileSync(path.join(HISTORIES, `${name}${EXTENSION}`), History.encode(history).finish());
    };
    const refuseOne = (code: number) =>
      adminQuery(
        servers.urls.destination,
        `CREATE OR REPLACE FUNCTION test_refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'test: refused'; END $$;
         DROP TRIGGER IF EXISTS test_refuse_one ON customer_profile;
         CREATE TRIGGER test_refuse_one BEFORE INSERT OR UPDATE ON customer_profile FOR EACH ROW WHEN (NEW."customerNumber" = '${String(code).padStart(10, '0')}') EXECUTE FUNCTION test_refuse_one();`,
      );
    const allowAll = () => adminQuery(servers.urls.destination, `DROP TRIGGER IF EXISTS test_refuse_one ON customer_profile`);
    /** An incremental run over changed codes 300–700 whose batch with code 500 fails: started and waiting for a decision. */
    const waitingOnFailedBatch = async (name: string) => {
      await adminQuery(servers.urls.source, `UPDATE efz_customer SET updated_at = clock_timestamp() WHERE customer_code BETWEEN 300 AND 700`);
      await refuseOne(500);
      const handle = await start(name, { mode: 'incremental', loadAttempts: 2, batchSize: 100 });
      await until('a failed batch waiting for a decision', async () => (await handle.query(progressQuery)).phase === 'awaiting-decision', 120_000, 200);
      return handle;
    };

    before(async () => {
      servers = shared();
      await seedSource({ sourceUrl: servers.urls.source, stagingUrl: servers.urls.staging, rows: 1000, seed: 51 });
      worker = await startWorker(
        testConfig(servers.urls, servers.temporal.address, { BATCH_SIZE: '200' }),
        servers.temporal.nativeConnection,
        servers.temporal.client,
      );
    });
    after(async () => {
      await allowAll();
      await worker?.stop();
    });

    it('records a full run (bulk path), an incremental run, a retried failed batch, an abort and a cancel', async () => {
      const full = await start('full', { mode: 'full' });
      await full.result();
      await save('full-bulk', full.workflowId);

      await adminQuery(servers.urls.source, `UPDATE efz_customer SET updated_at = clock_timestamp() WHERE customer_code <= 50`);
      const incremental = await start('incremental', { mode: 'incremental' });
      await incremental.result();
      await save('incremental', incremental.workflowId);

      const retried = await waitingOnFailedBatch('retry');
      await allowAll();
      await retried.executeUpdate(retryFailedBatchesUpdate, { args: [{}] });
      await retried.result();
      await save('failed-batch-retried', retried.workflowId);

      const aborted = await waitingOnFailedBatch('abort');
      await aborted.executeUpdate(abortUpdate, { args: [{ reason: 'recording' }] });
      await aborted.result();
      await save('aborted', aborted.workflowId);
      await allowAll();

      await adminQuery(servers.urls.source, `UPDATE efz_customer SET updated_at = clock_timestamp()`);
      const cancelled = await start('cancel', { mode: 'incremental', batchSize: 50 });
      await until('the run loading', async () => (await cancelled.query(progressQuery)).batches.done >= 2, 120_000, 50);
      await cancelled.cancel();
      await cancelled.result().catch(() => undefined);
      await save('cancelled', cancelled.workflowId);
    });

    it('records a run that continues as new: its first execution (hands over) and its last (starts from carried state)', async () => {
      await adminQuery(servers.urls.source, `UPDATE efz_customer SET updated_at = clock_timestamp()`);
      const handover = await start('continued', { mode: 'incremental', batchSize: 50, historyHandover: 60 });
      await handover.result();
      await save('continued-first', handover.workflowId, handover.firstExecutionRunId);
      await save('continued-last', handover.workflowId);
    });
  });
}
