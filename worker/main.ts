import * as os from 'node:os';
import type { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { loadConfig } from '../config/env';
import { closePools, type Pools } from '../db/pools';
import { fatalJson } from '../lib/cli-errors';
import { log, setLogLevel, setLogRowValues } from '../lib/log';
import { connectClient, connectionOptions, hasSearchAttributes } from '../lib/temporal';
import type { CompiledMapping } from '../mapping/types';
import { bootstrap } from './bootstrap';
import { createMigrationWorker } from './create';
import { installRuntime } from './runtime';
import { MigrationMetrics, serveMetrics } from '../lib/metrics';
import { readRunOverview } from '../db/staging/metrics';
import type { Server } from 'node:http';

/** Node's own warnings (deprecations, pg's sslmode notice) as JSON lines too, not free text on stderr. */
function routeProcessWarnings(): void {
  process.removeAllListeners('warning');
  process.on('warning', (w) => log('warn', w.message, { warning: w.name, code: (w as { code?: string }).code }));
}

class TemporalUnreachable extends Error {
  override name = 'TransportError';
}

let started = false;

async function main(): Promise<void> {
  routeProcessWarnings();
  const config = loadConfig();
  setLogLevel(config.LOG_LEVEL);
  setLogRowValues(config.LOG_ROW_VALUES);
  installRuntime(config.LOG_LEVEL, { metricsAddress: config.TEMPORAL_METRICS_ADDRESS });
  // TLS material is read now: an unreadable certificate is a configuration error, named as such.
  const temporalOptions = connectionOptions(config);

  let temporal: { client: Client; connection: Connection } | undefined;
  let connection: NativeConnection | undefined;
  let pools: Pools | undefined;
  let metricsServer: Server | undefined;
  try {
    // Mapping, databases and tables are checked read-only first, then Temporal, and only then is
    // anything written (the staging migrations): a worker that cannot start leaves no trace.
    let mapping: CompiledMapping;
    ({ mapping, pools } = await bootstrap(config, {
      beforeWrite: async () => {
        try {
          temporal = await connectClient(config);
          connection = await NativeConnection.connect(temporalOptions);
        } catch (err) {
          const tls = temporalOptions.tls ? ' over TLS' : '';
          throw new TemporalUnreachable(`cannot reach Temporal at ${config.TEMPORAL_ADDRESS}${tls}: ${(err as Error).message}`);
        }
      },
    }));
    const client = temporal!.client;
    const searchAttributes = await hasSearchAttributes(client, config.TEMPORAL_NAMESPACE);
    let metrics: MigrationMetrics | undefined;
    if (config.METRICS_ADDRESS) {
      const staging = pools.staging;
      metrics = new MigrationMetrics(() => readRunOverview(staging, config.PIPELINE));
      metricsServer = await serveMetrics(config.METRICS_ADDRESS, metrics.registry).catch((err: Error) => {
        throw Object.assign(new Error(`METRICS_ADDRESS: cannot listen on ${config.METRICS_ADDRESS}: ${err.message}`), { name: 'ConfigError' });
      });
    }
    const worker: Worker = await createMigrationWorker({
      config,
      connection: connection!,
      client,
      pools,
      mapping,
      searchAttributes,
      metrics,
      identity: `${process.pid}@${os.hostname()}`,
    });
    started = true;
    log('info', 'worker started', {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      namespace: config.TEMPORAL_NAMESPACE,
      address: config.TEMPORAL_ADDRESS,
      searchAttributes,
      pid: process.pid,
      metrics: config.METRICS_ADDRESS ?? null,
      sdkMetrics: config.TEMPORAL_METRICS_ADDRESS ?? null,
    });
    // Runs until SIGINT/SIGTERM; in-flight activities get the grace time, then the run's retries take over.
    await worker.run();
    log('info', 'worker stopped');
  } finally {
    if (metricsServer) {
      metricsServer.closeAllConnections(); // a scraper's keep-alive connection must not hold the exit
      await new Promise((resolve) => metricsServer!.close(resolve));
    }
    await connection?.close().catch(() => undefined);
    await temporal?.connection.close().catch(() => undefined);
    if (pools) await closePools(pools);
  }
}

main().catch((err) => fatalJson(started ? 'worker failed' : 'worker cannot start', err));
