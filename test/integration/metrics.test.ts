import { strict as assert } from 'node:assert';
import type { Pool } from 'pg';
import { TestServers, useTestServers } from '../support/servers';
import { pool, testConfig } from '../support/harness';
import { serviceEnv, sleep, startWorkerProcess, WorkerProcess } from '../support/processes';
import { seedSource } from '../../stack/seed';
import { freePort } from '../../stack/local-stack';
import type { AppConfig } from '../../config/env';
import { MigrationResult, WORKFLOW_TYPE } from '../../workflows/definitions';
import { PHASES } from '../../lib/metrics';

const ROWS = 6000;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (enough of the format for prom-client's output). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

async function scrape(address: string): Promise<{ text: string; samples: Sample[] }> {
  const response = await fetch(`http://${address}/metrics`);
  assert.equal(response.status, 200);
  const text = await response.text();
  return { text, samples: parseExposition(text) };
}

/** Sum of a metric's samples whose labels include `match`. */
function total(samples: Sample[], name: string, match: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
}

function byLabel(samples: Sample[], name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples.filter((x) => x.name === name && x.value > 0)) out[s.labels[label]] = (out[s.labels[label]] ?? 0) + s.value;
  return out;
}

describe('worker metrics on METRICS_ADDRESS, scraped during a real run (worker process, Temporal dev server, PostgreSQL)', function () {
  this.timeout(600_000);
  const shared = useTestServers();
  let servers: TestServers;
  let config: AppConfig;
  let worker: WorkerProcess | undefined;
  let staging: Pool;
  let source: Pool;
  let metricsAddress: string;
  let sdkMetricsAddress: string;

  before(async () => {
    servers = shared();
    await seedSource({ sourceUrl: servers.urls.source, stagingUrl: servers.urls.staging, rows: ROWS, seed: 23 });
    config = testConfig(servers.urls, servers.temporal.address, { BATCH_SIZE: '250' });
    metricsAddress = `127.0.0.1:${await freePort()}`;
    sdkMetricsAddress = `127.0.0.1:${await freePort()}`;
    worker = await startWorkerProcess(serviceEnv(config, { METRICS_ADDRESS: metricsAddress, TEMPORAL_METRICS_ADDRESS: sdkMetricsAddress }));
    [staging, source] = [pool(servers.urls.staging), pool(servers.urls.source)];
  });
  after(async () => {
    await worker?.stop();
    await Promise.allSettled([staging?.end(), source?.end()]);
  });

  it('is off unless METRICS_ADDRESS is set', () => {
    assert.equal(config.METRICS_ADDRESS, undefined);
    assert.equal(config.TEMPORAL_METRICS_ADDRESS, undefined);
  });

  it('shows the counters moving during the run and equal to the run counts at its end; labels carry no customer data', async () => {
    const before = await scrape(metricsAddress);
    assert.equal(total(before.samples, 'customer_migration_rows_loaded_total'), 0);
    assert.match(before.text, /# TYPE customer_migration_rows_loaded_total counter/);

    const handle = await servers.temporal.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowId: `metrics-full-${Date.now()}`,
      args: [{ mode: 'full' }],
    });
    let result: MigrationResult | undefined;
    const resultPromise = handle.result().then((r) => (result = r as MigrationResult));
    const loadedSeen: number[] = [];
    const extractedSeen: number[] = [];
    const phasesSeen = new Set<string>();
    while (!result) {
      const { samples } = await scrape(metricsAddress);
      loadedSeen.push(total(samples, 'customer_migration_rows_loaded_total', { mode: 'full' }));
      extractedSeen.push(total(samples, 'customer_migration_rows_extracted_total', { mode: 'full' }));
      for (const s of samples) if (s.name === 'customer_migration_phase' && s.value === 1) phasesSeen.add(s.labels.phase);
      await Promise.race([resultPromise, sleep(100)]);
    }
    assert.equal(result.status, 'COMPLETED', JSON.stringify(result.reconciliation?.checks));
    const final = await scrape(metricsAddress);
    const s = final.samples;

    // Moving: counters never go down, and some scrape saw the load part-way.
    for (const seen of [loadedSeen, extractedSeen]) seen.forEach((v, i) => assert.ok(i === 0 || v >= seen[i - 1], `counter went down: ${seen.join(',')}`));
    const partWay = loadedSeen.filter((v) => v > 0 && v < result!.counts.loaded);
    assert.ok(partWay.length > 0, `no scrape saw the load part-way (${loadedSeen.length} scrapes: ${[...new Set(loadedSeen)].join(',')})`);
    assert.ok(phasesSeen.has('loading'), `phases seen: ${[...phasesSeen].join(', ')}`);

    // At the end: equal to the run's counts.
    const c = result.counts;
    assert.equal(total(s, 'customer_migration_rows_extracted_total', { mode: 'full' }), c.extracted);
    assert.equal(c.extracted, ROWS);
    assert.equal(total(s, 'customer_migration_rows_loaded_total', { mode: 'full' }), c.loaded);
    assert.equal(total(s, 'customer_migration_rows_rejected_total', { mode: 'full' }), c.rejected);
    assert.equal(total(s, 'customer_migration_rows_warned_total', { mode: 'full' }), c.warned);
    assert.ok(c.rejected > 0 && c.warned > 0, 'the synthetic data has rejects and warnings');
    // By reason, as the run recorded them in staging.
    const issues = (await staging.query(`SELECT severity, reason, count(*)::int AS n FROM migration_issue WHERE run_id = $1 GROUP BY 1, 2`, [result.runId]))
      .rows;
    const expect = (severity: string) => Object.fromEntries(issues.filter((r) => r.severity === severity).map((r) => [r.reason, r.n]));
    assert.deepEqual(byLabel(s, 'customer_migration_rows_rejected_total', 'reason'), expect('REJECT'));
    assert.deepEqual(byLabel(s, 'customer_migration_warnings_total', 'reason'), expect('WARNING'));
    // Batches and their histograms.
    assert.equal(total(s, 'customer_migration_batches_total', { mode: 'full', state: 'done' }), result.batches.total);
    assert.ok(result.batches.total >= ROWS / 250);
    assert.equal(total(s, 'customer_migration_batch_duration_seconds_count', { mode: 'full' }), result.batches.total);
    assert.equal(total(s, 'customer_migration_batch_rows_per_second_count', { mode: 'full' }), result.batches.total);
    assert.ok(total(s, 'customer_migration_batch_duration_seconds_sum', { mode: 'full' }) > 0);
    assert.equal(total(s, 'customer_migration_batches', { state: 'done' }), result.batches.total);
    assert.equal(total(s, 'customer_migration_batches', { state: 'failed' }) + total(s, 'customer_migration_batches', { state: 'pending' }), 0);
    // Phase and the last reconciliation.
    assert.equal(total(s, 'customer_migration_phase', { phase: 'finished' }), 1);
    assert.equal(total(s, 'customer_migration_phase'), 1, 'exactly one phase is current');
    assert.equal(total(s, 'customer_migration_last_reconciliation_passed'), 1);
    assert.ok(total(s, 'customer_migration_last_reconciliation_timestamp_seconds') > Date.now() / 1000 - 600);

    // Labels: only bounded, non-customer values on the migration's own metrics.
    const allowed: Record<string, RegExp> = {
      mode: /^(full|incremental)$/,
      reason: /^[A-Z][A-Z0-9_]*$/,
      state: /^(pending|running|done|failed)$/,
      phase: new RegExp(`^(${PHASES.join('|')})$`),
      le: /^[0-9.e+]+$|^\+Inf$/,
    };
    const own = s.filter((x) => /^customer_migration_(rows|warnings|batch|phase|last_reconciliation)/.test(x.name));
    assert.ok(own.length > 20);
    for (const x of own) {
      for (const [k, v] of Object.entries(x.labels)) assert.ok(allowed[k]?.test(v), `${x.name}: label ${k}="${v}" is not an allowed label`);
    }
    const values = (await source.query(`SELECT email, bvn, branch_code, customer_code::text AS code FROM efz_customer WHERE email IS NOT NULL LIMIT 200`)).rows;
    const labelValues = new Set(
      own.flatMap((x) =>
        Object.entries(x.labels)
          .filter(([k]) => k !== 'le')
          .map(([, v]) => v),
      ),
    );
    for (const r of values) {
      // (Dirty rows hold blanks and fragments: only values that mean something when found are looked for.)
      if (/^\S{3,}@\S{3,}$/.test(r.email)) assert.ok(!final.text.includes(r.email), 'an email in the metrics');
      if (/^\d{11}$/.test(r.bvn ?? '')) assert.ok(!new RegExp(`(^|\\D)${r.bvn}(\\D|$)`).test(final.text), 'a BVN in the metrics');
      assert.ok(!labelValues.has(r.code) && !labelValues.has(r.branch_code), 'a customer or branch code as a label value');
    }

    // The SDK's own runtime metrics, on their own address.
    const sdk = await (await fetch(`http://${sdkMetricsAddress}/metrics`)).text();
    assert.match(sdk, /^temporal_\w+/m);
    assert.ok(sdk.includes(`task_queue="${config.TEMPORAL_TASK_QUEUE}"`), "the SDK metrics name the worker's task queue");
    assert.match(sdk, /temporal_activity_execution_latency\w*\{/);
  });
});
