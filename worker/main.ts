import * as os from 'node:os';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../config/env';
import { closePools } from '../db/pools';
import { fatal } from '../lib/cli-errors';
import { log, setLogLevel } from '../lib/log';
import { connectClient, connectionOptions, hasSearchAttributes } from '../lib/temporal';
import { bootstrap } from './bootstrap';
import { createMigrationWorker } from './create';

async function main(): Promise<void> {
  const config = loadConfig();
  setLogLevel(config.LOG_LEVEL);
  const { mapping, pools } = await bootstrap(config);
  let connection: NativeConnection | undefined;
  const { client, connection: clientConnection } = await connectClient(config);
  try {
    connection = await NativeConnection.connect(connectionOptions(config));
    const searchAttributes = await hasSearchAttributes(client, config.TEMPORAL_NAMESPACE);
    const worker = await createMigrationWorker({ config, connection, client, pools, mapping, searchAttributes, identity: `${process.pid}@${os.hostname()}` });
    log('info', 'worker started', { taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE, address: config.TEMPORAL_ADDRESS, searchAttributes });
    // Runs until SIGINT/SIGTERM; in-flight activities get the grace time, then the run's retries take over.
    await worker.run();
    log('info', 'worker stopped');
  } finally {
    await connection?.close();
    await clientConnection.close();
    await closePools(pools);
  }
}

main().catch(fatal);
