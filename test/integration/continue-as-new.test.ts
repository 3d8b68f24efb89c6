import { strict as assert } from 'node:assert';
import type { Pool } from 'pg';
import { TestServers, useTestServers } from '../support/servers';
import { pool, RunningWorker, startWorker, testConfig } from '../support/harness';
import { seedSource } from '../../stack/seed';
import type { AppConfig } from '../../config/env';
import { MigrationResult, WORKFLOW_TYPE } from '../../workflows/definitions';

const ROWS = 3000;

describe('a long run hands over to a new execution (continue-as-new) and carries its state', function () {
  this.timeout(600_000);
  const shared = useTestServers();
  let servers: TestServers;
  let config: AppConfig;
  let worker: RunningWorker;
  let staging: Pool;

  before(async () => {
    servers = shared();
    await seedSource({ sourceUrl: servers.urls.source, stagingUrl: servers.urls.staging, rows: ROWS, seed: 23 });
    config = testConfig(servers.urls, servers.temporal.address);
    worker = await startWorker(config, servers.temporal.nativeConnection, servers.temporal.client);
    staging = pool(servers.urls.staging);
  });
  after(async () => {
    await staging?.end();
    await worker?.stop();
  });

  it('loads every batch exactly once across several executions, and the one migration run reconciles', async () => {
    const workflowId = `handover-${Date.now()}`;
    // 60 batches of 50 rows: with a handover every ~120 events the run continues as new several times.
    const handle = await servers.temporal.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowId,
      args: [{ mode: 'full', batchSize: 50, parallelism: 2, historyHandover: 120 }],
    });
    const result: MigrationResult = await handle.result(); // follows the chain of executions to its end
    assert.equal(result.status, 'COMPLETED', JSON.stringify(result.reconciliation?.checks));
    assert.ok(result.reconciliation?.ok);
    assert.equal(result.counts.staged, ROWS);
    assert.equal(result.counts.loaded + result.counts.rejected, ROWS, 'the counts carried across executions add up');
    assert.equal(result.batches.total, ROWS / 50);
    assert.equal(result.batches.done, result.batches.total);

    const executions: string[] = [];
    for await (const e of servers.temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) executions.push(e.status.name);
    assert.ok(executions.length >= 3, `executions: ${executions.join(', ')}`);
    assert.equal(executions.filter((s) => s === 'CONTINUED_AS_NEW').length, executions.length - 1, `executions: ${executions.join(', ')}`);

    // One migration run across the executions, every batch loaded once and only once.
    const runs = (await staging.query(`SELECT count(*)::int AS n FROM migration_run WHERE workflow_id = $1`, [workflowId])).rows[0].n;
    assert.equal(runs, 1);
    const batches = (
      await staging.query(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE b.status = 'DONE')::int AS done, max(b.attempts)::int AS attempts
         FROM migration_batch b JOIN migration_run r USING (run_id) WHERE r.workflow_id = $1`,
        [workflowId],
      )
    ).rows[0];
    assert.deepEqual(batches, { n: ROWS / 50, done: ROWS / 50, attempts: 1 });
  });
});
