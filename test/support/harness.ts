import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import { AppConfig, parseConfig } from '../../config/env';
import { createPool, closePools, Pools } from '../../db/pools';
import { bootstrap } from '../../worker/bootstrap';
import { createMigrationWorker } from '../../worker/create';
import type { CompiledMapping } from '../../mapping/types';
import { MigrationInput, MigrationResult, WORKFLOW_TYPE } from '../../workflows/definitions';
import { hasSearchAttributes } from '../../lib/temporal';

export interface TestUrls {
  source: string;
  staging: string;
  destination: string;
}

let queueCounter = 0;

/** The service config a test runs with: the test servers, a task queue of its own, small batches. */
export function testConfig(urls: TestUrls, temporalAddress: string, overrides: Record<string, string> = {}): AppConfig {
  return parseConfig({
    SOURCE_DATABASE_URL: urls.source,
    STAGING_DATABASE_URL: urls.staging,
    DESTINATION_DATABASE_URL: urls.destination,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: `test-${process.pid}-${++queueCounter}`,
    BATCH_SIZE: '500',
    BATCH_PARALLELISM: '2',
    EXTRACT_CHUNK_SIZE: '1000',
    LOG_LEVEL: 'warn',
    ...overrides,
  });
}

export interface RunningWorker {
  config: AppConfig;
  pools: Pools;
  mapping: CompiledMapping;
  worker: Worker;
  stop(): Promise<void>;
}

/** A real worker of this service, in-process, on the test Temporal server and test databases. */
export async function startWorker(config: AppConfig, connection: NativeConnection, client: Client): Promise<RunningWorker> {
  const { mapping, pools } = await bootstrap(config);
  const searchAttributes = await hasSearchAttributes(client, config.TEMPORAL_NAMESPACE);
  const worker = await createMigrationWorker({ config, connection, client, pools, mapping, searchAttributes });
  const running = worker.run();
  return {
    config,
    pools,
    mapping,
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await closePools(pools);
    },
  };
}

export async function runMigration(client: Client, config: AppConfig, input: MigrationInput, workflowId?: string): Promise<MigrationResult> {
  return client.workflow.execute(WORKFLOW_TYPE, {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId: workflowId ?? `test-${input.mode}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`,
    args: [input],
  });
}

/** An md5 over every column of both destination tables, in key order: equal digests, equal tables. */
export async function destinationDigest(destination: Pool): Promise<{ customer: string; profile: string; customers: number; profiles: number }> {
  const row = (
    await destination.query(
      `SELECT (SELECT md5(COALESCE(string_agg(c::text, E'\\n' ORDER BY c."customerId"), '')) FROM customer c) AS customer,
            (SELECT md5(COALESCE(string_agg(p::text, E'\\n' ORDER BY p."customerProfileId"), '')) FROM customer_profile p) AS profile,
            (SELECT count(*)::int FROM customer) AS customers,
            (SELECT count(*)::int FROM customer_profile) AS profiles`,
    )
  ).rows[0];
  return row;
}

export function pool(url: string): Pool {
  return createPool({ url, role: 'staging', max: 2, applicationName: 'customer-migration:test' });
}
