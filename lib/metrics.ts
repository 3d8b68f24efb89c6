/**
 * The migration's own Prometheus metrics (prom-client), served by the worker on METRICS_ADDRESS.
 * The Temporal SDK's runtime metrics are a separate exporter of the SDK's core (worker/runtime.ts,
 * TEMPORAL_METRICS_ADDRESS): it runs an HTTP server of its own, so the two cannot share a port.
 *
 * Labels carry only bounded, non-customer values: the run mode, a mapping reason code (upper-case
 * identifiers from the mapping document; anything else becomes OTHER), a batch state, a phase.
 * Never a customer value, a customer code or a branch code.
 */
import * as http from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BatchState, RunOverview } from '../db/staging/metrics';
import type { Phase } from '../workflows/definitions';
import { log } from './log';

export const PHASES: readonly Phase[] = ['starting', 'extracting', 'assigning-ids', 'planning', 'loading', 'awaiting-decision', 'reconciling', 'finished'];
const BATCH_STATES: readonly BatchState[] = ['pending', 'running', 'done', 'failed'];
const MODES = new Set(['full', 'incremental']);

/** A reason code as a label value: the mapping's codes pass, anything else (never a value) is OTHER. */
export function reasonLabel(reason: string): string {
  return /^[A-Z][A-Z0-9_]{0,63}$/.test(reason) ? reason : 'OTHER';
}
const modeLabel = (mode: string) => (MODES.has(mode) ? mode : 'unknown');

/** What one loaded batch adds to the counters. */
export interface BatchOutcome {
  loaded: number;
  rejected: number;
  /** Loaded rows with at least one warning. */
  warned: number;
  durationMs: number;
  /** Rejected rows by reason code (one reason a row). */
  rejectsByReason: ReadonlyMap<string, number>;
  /** Warnings by reason code (a row may have several). */
  warningsByReason: ReadonlyMap<string, number>;
}

export class MigrationMetrics {
  readonly registry = new Registry();
  private readonly modes = new Map<number, string>();

  private readonly rowsExtracted: Counter<'mode'>;
  private readonly rowsLoaded: Counter<'mode'>;
  private readonly rowsRejected: Counter<'mode' | 'reason'>;
  private readonly rowsWarned: Counter<'mode'>;
  private readonly warnings: Counter<'mode' | 'reason'>;
  private readonly batches: Counter<'mode' | 'state'>;
  private readonly batchDuration: Histogram<'mode'>;
  private readonly batchRate: Histogram<'mode'>;

  /**
   * `overview` reads the pipeline's latest run when Prometheus scrapes (the phase, batches by state and
   * last reconciliation gauges); without it those gauges stay empty.
   */
  constructor(overview?: () => Promise<RunOverview>) {
    const registers = [this.registry];
    const p = 'customer_migration_';
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) => new Counter<L>({ name: `${p}${name}`, help, labelNames, registers });
    const histogram = (name: string, help: string, buckets: number[]) =>
      new Histogram<'mode'>({ name: `${p}${name}`, help, labelNames: ['mode'], registers, buckets });
    this.rowsExtracted = counter('rows_extracted_total', 'Source rows read into staging, by run mode', ['mode']);
    this.rowsLoaded = counter('rows_loaded_total', 'Rows written to the destination (customer + customer_profile), by run mode', ['mode']);
    this.rowsRejected = counter('rows_rejected_total', 'Staged rows rejected by the mapping, by run mode and reject reason', ['mode', 'reason']);
    this.rowsWarned = counter('rows_warned_total', 'Loaded rows with at least one warning, by run mode', ['mode']);
    this.warnings = counter('warnings_total', 'Mapping warnings (a row may have several), by run mode and reason', ['mode', 'reason']);
    this.batches = counter('batches_total', 'Load batches finished by this worker, by run mode and outcome (done | failed after its retries)', [
      'mode',
      'state',
    ]);
    this.batchDuration = histogram('batch_duration_seconds', 'Time to map and load one batch', [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]);
    this.batchRate = histogram(
      'batch_rows_per_second',
      'Staged rows mapped and loaded (or rejected) per second, per batch',
      [100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000],
    );
    collectDefaultMetrics({ register: this.registry, prefix: p });
    if (!overview) return;

    // One staging read per scrape serves all four gauges: prom-client collects them concurrently, so
    // they all ask before the read resolves; the next scrape reads again.
    let pending: Promise<RunOverview | null> | null = null;
    const read = () =>
      (pending ??= overview()
        .catch((err) => {
          log('warn', 'metrics: cannot read the run overview from staging', { error: err });
          return null;
        })
        .finally(() => (pending = null)));
    // Each gauge is set at scrape time from the one overview read (nothing when staging is unreachable).
    const gauge = <L extends string>(name: string, help: string, labelNames: L[], set: (g: Gauge<L>, o: RunOverview) => void) =>
      new Gauge<L>({
        name: `${p}${name}`,
        help,
        labelNames,
        registers,
        async collect() {
          const o = await read();
          if (o) set(this, o);
        },
      });
    gauge('phase', "1 for the phase of the pipeline's latest run (finished once it ended), 0 for the others", ['phase'], (g, o) => {
      const current = o.run ? currentPhase(o) : null;
      for (const phase of PHASES) g.set({ phase }, phase === current ? 1 : 0);
    });
    gauge('batches', "The latest run's batches by state", ['state'], (g, o) => {
      for (const state of BATCH_STATES) g.set({ state }, o.batches[state]);
    });
    gauge('last_reconciliation_passed', 'Whether the last reconciliation of the pipeline passed (1) or failed (0); absent before the first', [], (g, o) => {
      if (o.lastReconciliation) g.set(o.lastReconciliation.ok ? 1 : 0);
    });
    gauge('last_reconciliation_timestamp_seconds', 'When the run of the last reconciliation finished (Unix time)', [], (g, o) => {
      if (o.lastReconciliation?.finishedAtSeconds != null) g.set(o.lastReconciliation.finishedAtSeconds);
    });
  }

  /** Remembers a run's mode, so the counters of its later batches need no lookup. */
  runMode(runId: number, mode: string): void {
    if (this.modes.size >= 64) this.modes.delete(this.modes.keys().next().value!);
    this.modes.set(runId, mode);
  }

  /** A run's mode for the labels: remembered, else `read` once (a run another worker extracted). */
  async modeOf(runId: number, read: () => Promise<string | null>): Promise<string> {
    const known = this.modes.get(runId);
    if (known) return known;
    const mode = (await read()) ?? 'unknown';
    this.runMode(runId, mode);
    return mode;
  }

  extracted(mode: string, rows: number): void {
    if (rows > 0) this.rowsExtracted.inc({ mode: modeLabel(mode) }, rows);
  }

  batchLoaded(mode: string, outcome: BatchOutcome): void {
    const m = modeLabel(mode);
    this.rowsLoaded.inc({ mode: m }, outcome.loaded);
    this.rowsWarned.inc({ mode: m }, outcome.warned);
    for (const [reason, n] of outcome.rejectsByReason) this.rowsRejected.inc({ mode: m, reason: reasonLabel(reason) }, n);
    for (const [reason, n] of outcome.warningsByReason) this.warnings.inc({ mode: m, reason: reasonLabel(reason) }, n);
    this.batches.inc({ mode: m, state: 'done' });
    const seconds = Math.max(outcome.durationMs, 1) / 1000;
    this.batchDuration.observe({ mode: m }, seconds);
    this.batchRate.observe({ mode: m }, (outcome.loaded + outcome.rejected) / seconds);
  }

  batchFailed(mode: string): void {
    this.batches.inc({ mode: modeLabel(mode), state: 'failed' });
  }
}

/**
 * The phase staging records, with the one staging does not: a loading run whose only unfinished
 * batches failed waits for a decision (the workflow's own condition for awaiting-decision).
 */
function currentPhase(o: RunOverview): string {
  const { run, batches } = o;
  if (!run) return 'starting';
  if (run.status !== 'RUNNING') return 'finished';
  if (run.phase === 'loading' && batches.failed > 0 && batches.pending === 0 && batches.running === 0) return 'awaiting-decision';
  return run.phase;
}

/** Serves `registry` at GET /metrics on host:port; resolves once listening. */
export async function serveMetrics(address: string, registry: Registry): Promise<http.Server> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(at + 1));
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics unavailable: ${(err as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
