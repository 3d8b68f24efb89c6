import { DefaultLogger, LogEntry, Runtime } from '@temporalio/worker';
import { Level, log } from '../lib/log';

/**
 * Routes the SDK's own log lines (bundler, worker state, retries) into the service's JSON lines, at
 * the configured level, so one worker log stays machine-readable. With `metricsAddress`
 * (TEMPORAL_METRICS_ADDRESS) the SDK's core also serves its own Prometheus metrics there (GET
 * /metrics: `temporal_*` pollers, task slots, latencies, sticky cache), an HTTP server of its own.
 * The runtime can be installed once per process, before any connection: the worker does it first.
 */
export function installRuntime(level: Level, { metricsAddress }: { metricsAddress?: string } = {}): void {
  const logger = new DefaultLogger(level === 'debug' ? 'DEBUG' : 'WARN', (entry: LogEntry) => {
    const kind = entry.level.toLowerCase() as Level;
    log(kind === ('trace' as string) ? 'debug' : kind, entry.message, { sdk: true, ...(entry.meta ?? {}) });
  });
  Runtime.install({
    logger,
    ...(metricsAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress, countersTotalSuffix: true, useSecondsForDurations: true } } } }
      : {}),
  });
}
