import { strict as assert } from 'node:assert';
import { parseConfig } from '../../config/env';
import { MigrationMetrics, reasonLabel } from '../../lib/metrics';
import type { RunOverview } from '../../db/staging/metrics';

const overview = (o: Partial<RunOverview> & { phase?: string; status?: string }): RunOverview => ({
  run: { runId: 7, mode: 'full', status: o.status ?? 'RUNNING', phase: o.phase ?? 'loading' },
  batches: o.batches ?? { pending: 0, running: 0, done: 3, failed: 0 },
  lastReconciliation: o.lastReconciliation ?? null,
});

async function value(m: MigrationMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (metric?.values as { labels: Record<string, string>; value: number }[] | undefined)
    ?.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((n, v) => n + v.value, 0);
}

describe('metrics (lib/metrics.ts)', () => {
  it("keeps reason labels to the mapping's codes: anything else is OTHER", () => {
    assert.equal(reasonLabel('UNKNOWN_BRANCH'), 'UNKNOWN_BRANCH');
    for (const v of ['adaeze@example.com', '12345', 'unknown branch', 'LAG 001', '', 'x'.repeat(70)]) assert.equal(reasonLabel(v), 'OTHER');
  });

  it('counts a batch by mode and reason, and observes its duration and rate', async () => {
    const m = new MigrationMetrics();
    m.batchLoaded('full', {
      loaded: 90,
      rejected: 10,
      warned: 4,
      durationMs: 500,
      rejectsByReason: new Map([
        ['INVALID_BVN', 6],
        ['UNKNOWN_BRANCH', 4],
      ]),
      warningsByReason: new Map([['INVALID_PHONE', 5]]),
    });
    m.batchLoaded('bogus-mode', { loaded: 1, rejected: 0, warned: 0, durationMs: 0, rejectsByReason: new Map(), warningsByReason: new Map() });
    assert.equal(await value(m, 'customer_migration_rows_loaded_total', { mode: 'full' }), 90);
    assert.equal(await value(m, 'customer_migration_rows_loaded_total', { mode: 'unknown' }), 1);
    assert.equal(await value(m, 'customer_migration_rows_rejected_total', { reason: 'INVALID_BVN' }), 6);
    assert.equal(await value(m, 'customer_migration_rows_rejected_total'), 10);
    assert.equal(await value(m, 'customer_migration_warnings_total', { reason: 'INVALID_PHONE' }), 5);
    assert.equal(await value(m, 'customer_migration_rows_warned_total'), 4);
    const text = await m.registry.metrics();
    assert.match(text, /customer_migration_batch_duration_seconds_bucket\{le="0.5",mode="full"\} 1/);
    assert.match(text, /customer_migration_batch_rows_per_second_bucket\{le="250",mode="full"\} 1/);
  });

  it('reads phase, batches and the last reconciliation once per scrape, and tells awaiting-decision from loading', async () => {
    let reads = 0;
    let next = overview({ batches: { pending: 0, running: 0, done: 5, failed: 2 }, lastReconciliation: { runId: 6, ok: false, finishedAtSeconds: 100 } });
    const m = new MigrationMetrics(async () => (reads++, next));
    const text = await m.registry.metrics();
    assert.equal(reads, 1);
    assert.match(text, /customer_migration_phase\{phase="awaiting-decision"\} 1/);
    assert.match(text, /customer_migration_phase\{phase="loading"\} 0/);
    assert.match(text, /customer_migration_batches\{state="failed"\} 2/);
    assert.match(text, /customer_migration_last_reconciliation_passed 0/);
    next = overview({ batches: { pending: 1, running: 1, done: 5, failed: 1 } });
    assert.match(await m.registry.metrics(), /customer_migration_phase\{phase="loading"\} 1/);
    next = overview({ status: 'COMPLETED', phase: 'finished', lastReconciliation: { runId: 7, ok: true, finishedAtSeconds: 200 } });
    const done = await m.registry.metrics();
    assert.match(done, /customer_migration_phase\{phase="finished"\} 1/);
    assert.match(done, /customer_migration_last_reconciliation_passed 1/);
    assert.equal(reads, 3);
  });

  it('METRICS_ADDRESS / TEMPORAL_METRICS_ADDRESS: off by default, host:port, not the same address', () => {
    const c = parseConfig({});
    assert.equal(c.METRICS_ADDRESS, undefined);
    assert.equal(c.TEMPORAL_METRICS_ADDRESS, undefined);
    assert.equal(parseConfig({ METRICS_ADDRESS: '0.0.0.0:9464', TEMPORAL_METRICS_ADDRESS: '[::1]:9465' }).TEMPORAL_METRICS_ADDRESS, '[::1]:9465');
    assert.throws(() => parseConfig({ METRICS_ADDRESS: 'http://0.0.0.0:9464' }), /METRICS_ADDRESS: must be host:port/);
    assert.throws(
      () => parseConfig({ METRICS_ADDRESS: '0.0.0.0:9464', TEMPORAL_METRICS_ADDRESS: '0.0.0.0:9464' }),
      /TEMPORAL_METRICS_ADDRESS: must differ from METRICS_ADDRESS/,
    );
    assert.throws(() => parseConfig({ PREFLIGHT_SAMPLE_SIZE: '0' }), /PREFLIGHT_SAMPLE_SIZE/);
  });
});
