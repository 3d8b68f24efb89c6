import { strict as assert } from 'node:assert';
import type { Client } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { TestServers, useTestServers } from '../support/servers';
import { RunningWorker, runMigration, startWorker, testConfig } from '../support/harness';
import { runCli } from '../support/cli';
import { adminQuery, sleep, until } from '../support/processes';
import { seedSource } from '../../stack/seed';
import { ensureDatabases, postgresUrl } from '../../stack/local-stack';
import { applyDdl } from '../../db/migrate';
import { taskQueuePollers } from '../../lib/temporal';
import type { AppConfig } from '../../config/env';
import type { MigrationResult } from '../../workflows/definitions';
import type { Finding, PreflightReport } from '../../client/preflight';

const ROWS = 2000;

/** Everything that would show a write: the cluster's next transaction id, and digests of every table of the three databases. */
async function writeEvidence(servers: TestServers): Promise<Record<string, string>> {
  const evidence: Record<string, string> = {};
  // A transaction that writes anything (in any database of the cluster) is given an xid; read-only ones never are.
  evidence.nextXid = (await adminQuery(servers.postgres.adminUrl, `SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x`))[0].x;
  for (const [role, url] of Object.entries(servers.urls)) {
    const client = new PgClient({ connectionString: url });
    await client.connect();
    try {
      const tables = (await client.query(`SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map(
        (r) => r.t,
      );
      for (const t of tables) {
        evidence[`${role}:${t}`] = (
          await client.query(`SELECT count(*) || ':' || md5(COALESCE(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS d FROM ${t} x`)
        ).rows[0].d;
      }
    } finally {
      await client.end();
    }
  }
  return evidence;
}

async function workflowCount(client: Client): Promise<number> {
  let n = 0;
  for await (const _ of client.workflow.list()) n++;
  return n;
}

const find = (r: PreflightReport, check: string): Finding[] => r.findings.filter((f) => f.check === check);

describe('migrate preflight (real PostgreSQL, Temporal dev server, a real worker)', function () {
  this.timeout(600_000);
  const shared = useTestServers();
  let servers: TestServers;
  let config: AppConfig;
  let worker: RunningWorker;
  let run: MigrationResult;
  const stoppedQueue = `preflight-stopped-${process.pid}`;
  let stoppedAt = 0;

  before(async () => {
    servers = shared();
    await seedSource({ sourceUrl: servers.urls.source, stagingUrl: servers.urls.staging, rows: ROWS, seed: 5 });
    config = testConfig(servers.urls, servers.temporal.address);
    worker = await startWorker(config, servers.temporal.nativeConnection, servers.temporal.client);
    // A worker that polled its own queue and stopped (the stopped-worker case below).
    const stopped = await startWorker({ ...config, TEMPORAL_TASK_QUEUE: stoppedQueue }, servers.temporal.nativeConnection, servers.temporal.client);
    await until(
      'the worker to poll',
      async () => (await taskQueuePollers(servers.temporal.client, config.TEMPORAL_NAMESPACE, stoppedQueue)).activity.length > 0,
      30_000,
    );
    await stopped.stop();
    stoppedAt = Date.now();
    run = await runMigration(servers.temporal.client, config, { mode: 'full' });
    assert.equal(run.status, 'COMPLETED');
    // Settle autovacuum's work on the fresh tables now, so that nothing else writes during the checks.
    for (const url of Object.values(servers.urls)) await adminQuery(url, 'VACUUM ANALYZE');
  });
  after(async () => {
    await worker?.stop();
  });

  it('on a healthy stack reports no blocker, exits 0, estimates from the real engine, and writes nothing anywhere', async () => {
    const before = await writeEvidence(servers);
    const workflowsBefore = await workflowCount(servers.temporal.client);

    const result = await runCli(config, ['preflight', '--json']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const report = result.json as PreflightReport;
    assert.equal(report.ok, true);
    assert.equal(report.counts.blockers, 0, JSON.stringify(report.findings.filter((f) => f.severity === 'BLOCKER')));
    assert.equal(report.wroteNothing, true);
    for (const f of report.findings) assert.ok(['BLOCKER', 'WARNING', 'INFO'].includes(f.severity));
    for (const check of [
      'source.server',
      'staging.server',
      'destination.server',
      'temporal.server',
      'temporal.namespace',
      'temporal.pollers',
      'staging.writable',
      'destination.writable',
      'destination.can-alter',
      'destination.foreign-key',
    ]) {
      assert.ok(find(report, check).length, `no ${check} finding`);
    }
    assert.equal(find(report, 'destination.can-alter')[0].details?.canAlter, true, 'the test user is a superuser');
    assert.equal(find(report, 'source.writable')[0].severity, 'WARNING', 'the test user may write the source: a least-privilege warning');
    assert.equal(find(report, 'temporal.search-attributes')[0].severity, 'INFO');
    assert.equal(find(report, 'source.rows')[0].details?.rows, ROWS);
    assert.equal(find(report, 'staging.watermark')[0].details?.runId, run.runId);
    // The whole table is the sample here (2000 < the default 10,000): the estimate is the run's own counts.
    assert.equal(report.estimate?.sampleSize, ROWS);
    assert.equal(report.estimate?.rejected.estimated, run.counts.rejected);
    assert.equal(report.estimate?.warned.estimated, run.counts.warned);
    assert.equal(report.estimate?.duration?.fromRunId, run.runId);
    assert.ok((report.estimate?.duration?.seconds ?? 0) > 0);
    // Unknown branches in the synthetic data: found with the rows each would reject, as the run rejected them.
    const unknownBranch = run.reconciliation
      ? (
          await adminQuery(servers.urls.staging, `SELECT count(*)::int AS n FROM migration_issue WHERE run_id = $1 AND reason = 'UNKNOWN_BRANCH'`, [run.runId])
        )[0].n
      : 0;
    const branchRows = [...find(report, 'reference.branch-missing'), ...find(report, 'reference.branch-empty')].reduce(
      (n, f) => n + Number(f.details?.rows ?? 0),
      0,
    );
    assert.ok(
      unknownBranch > 0 && branchRows >= unknownBranch,
      `branch findings cover ${branchRows} rows, the run rejected ${unknownBranch} for UNKNOWN_BRANCH`,
    );

    // The table form on a terminal, and the sample size option.
    const text = await runCli(config, ['preflight', '--sample', '500']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^severity\s+area\s+check\s+finding/m);
    assert.match(text.stdout, /sample of 500 of 2,000 rows/);
    assert.match(text.stdout, /preflight: no blocker .*Nothing was written\./);

    assert.deepEqual(await writeEvidence(servers), before, 'preflight wrote something');
    assert.equal(await workflowCount(servers.temporal.client), workflowsBefore, 'preflight started a workflow');
  });

  it('reports a dropped destination column, a missing branch, a future-dated row and a stopped worker, each with its severity; exits 1', async () => {
    // A destination of its own with the contract's DDL, less one mapped column.
    const destination = postgresUrl(servers.postgres.port, 'corebank_preflight');
    await ensureDatabases(servers.postgres.adminUrl, ['corebank_preflight']);
    await applyDdl(destination, 'destination');
    await adminQuery(destination, `ALTER TABLE customer_profile DROP COLUMN IF EXISTS bvn`);
    // A branch code the bank's branch_map lacks, on three rows; one row dated in the future.
    await adminQuery(servers.urls.source, `UPDATE efz_customer SET branch_code = ' zz9 ' WHERE customer_code IN (1, 2, 3)`);
    await adminQuery(servers.urls.source, `UPDATE efz_customer SET updated_at = '2099-01-01T00:00:00Z' WHERE customer_code = 4`);
    const bad = testConfig({ ...servers.urls, destination }, servers.temporal.address, { TEMPORAL_TASK_QUEUE: stoppedQueue });
    // Temporal lists a poller for minutes after it went; preflight counts one silent for 90 s as gone
    // (a live worker, even idle, polls again within about a minute).
    await sleep(Math.max(0, stoppedAt + 92_000 - Date.now()));
    const result = await runCli(bad, ['preflight', '--json']);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const report = result.json as PreflightReport;
    assert.equal(report.ok, false);

    const column = find(report, 'destination.column-missing');
    assert.equal(column.length, 1, JSON.stringify(column));
    assert.equal(column[0].severity, 'BLOCKER');
    assert.deepEqual(column[0].details, { table: 'customer_profile', column: 'bvn' });

    const branch = find(report, 'reference.branch-missing').filter((f) => f.details?.code === 'ZZ9');
    assert.equal(branch.length, 1, JSON.stringify(find(report, 'reference.branch-missing')));
    assert.equal(branch[0].severity, 'WARNING');
    assert.equal(branch[0].details?.rows, 3);
    assert.equal(branch[0].details?.reason, 'UNKNOWN_BRANCH');

    const future = find(report, 'source.future-dated');
    assert.equal(future.length, 1);
    assert.equal(future[0].severity, 'WARNING');
    assert.ok((future[0].details?.examples as number[]).includes(4));

    const pollers = find(report, 'temporal.no-pollers');
    assert.equal(pollers.length, 1, JSON.stringify(report.findings.filter((f) => f.area === 'temporal')));
    assert.equal(pollers[0].severity, 'BLOCKER');
    assert.equal(find(report, 'temporal.pollers').length, 0);

    assert.equal(report.counts.blockers, report.findings.filter((f) => f.severity === 'BLOCKER').length);
    assert.deepEqual(
      report.findings
        .filter((f) => f.severity === 'BLOCKER')
        .map((f) => f.check)
        .sort(),
      ['destination.column-missing', 'temporal.no-pollers'],
    );
  });
});
