import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config/env';
import type { Pools } from '../db/pools';
import type { MigrationMetrics } from '../lib/metrics';
import type { CompiledMapping } from '../mapping/types';

/** What the activity factory needs: the three pools, the compiled mapping and the service config. */
export interface ActivityDeps {
  pools: Pools;
  mapping: CompiledMapping;
  config: AppConfig;
  /** Used to tell whether the holder of a pipeline lock is still running. */
  temporal: Client;
  /** Whether the cluster has this service's custom search attributes (checked at worker start-up). */
  searchAttributes: boolean;
  /** The worker's Prometheus metrics (lib/metrics.ts); absent where nothing scrapes (tests). */
  metrics?: MigrationMetrics;
}
