import * as fs from 'node:fs';
import { Worker, NativeConnection } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createActivities } from '../activities';
import type { AppConfig } from '../config/env';
import type { Pools } from '../db/pools';
import type { MigrationMetrics } from '../lib/metrics';
import type { CompiledMapping } from '../mapping/types';
import { WORKFLOW_BUNDLE, WORKFLOWS_PATH } from './paths';

export interface MigrationWorkerOptions {
  config: AppConfig;
  connection: NativeConnection;
  client: Client;
  pools: Pools;
  mapping: CompiledMapping;
  searchAttributes: boolean;
  taskQueue?: string;
  identity?: string;
  /** The worker's Prometheus metrics, updated by the activities. */
  metrics?: MigrationMetrics;
}

/** The workflow code a worker (or a replayer) runs: the build's bundle when it is current, else the compiled modules, bundled on the fly. */
export function workflowCode(): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  return bundleIsCurrent() ? { workflowBundle: { codePath: WORKFLOW_BUNDLE } } : { workflowsPath: WORKFLOWS_PATH };
}

function bundleIsCurrent(): boolean {
  try {
    return fs.statSync(WORKFLOW_BUNDLE).mtimeMs >= fs.statSync(WORKFLOWS_PATH.replace(/index\.js$/, 'customer-migration.js')).mtimeMs;
  } catch {
    return false;
  }
}

/** The worker of the customer-migration task queue: the workflow plus the activities built from pools. */
export async function createMigrationWorker(options: MigrationWorkerOptions): Promise<Worker> {
  const { config, connection, client, pools, mapping, searchAttributes } = options;
  return Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: options.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    ...(options.identity ? { identity: options.identity } : {}),
    // The build's ready bundle when it is there and current; otherwise bundle now (tests, dev).
    ...workflowCode(),
    activities: createActivities({ pools, mapping, config, temporal: client, searchAttributes, metrics: options.metrics }),
    // Batches are bounded by the workflow's window; a little headroom lets several runs' control
    // activities through while batches load.
    maxConcurrentActivityTaskExecutions: Math.max(4, config.BATCH_PARALLELISM * 2),
    shutdownGraceTime: '30s',
  });
}
