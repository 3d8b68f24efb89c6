import type { AppConfig } from '../config/env';
import { migrateStaging } from '../db/migrate';
import { closePools, createPools, Pools } from '../db/pools';
import { checkReachable, checkTables } from '../db/preflight';
import { loadMappingFile } from '../mapping';
import type { CompiledMapping } from '../mapping/types';

export interface BootstrapOptions {
  /** Apply pending staging migrations (default true). */
  migrate?: boolean;
  /** Runs after the read-only checks and before anything is written (the worker connects to Temporal here). */
  beforeWrite?: () => Promise<void>;
}

/**
 * What every process that touches the databases needs, validated, in an order that writes nothing
 * until everything that can be checked read-only has passed:
 *   1. the mapping file (no I/O but the file): a bad or hostile mapping stops here;
 *   2. every database answers; the source and destination tables have the mapping's columns;
 *   3. `beforeWrite` (e.g. Temporal is reachable);
 *   4. only then the staging schema is migrated, and stg_customer checked.
 */
export async function bootstrap(
  config: AppConfig,
  { migrate = true, beforeWrite }: BootstrapOptions = {},
): Promise<{ mapping: CompiledMapping; pools: Pools }> {
  const mapping = loadMappingFile(config.MAPPING_FILE, {
    tenantId: config.TENANT_ID,
    migrationUserId: config.MIGRATION_USER_ID,
    migrationUserName: config.MIGRATION_USER_NAME,
  });
  const pools = createPools(
    { source: config.SOURCE_DATABASE_URL, staging: config.STAGING_DATABASE_URL, destination: config.DESTINATION_DATABASE_URL },
    { max: config.PG_POOL_MAX, statementTimeoutMs: config.PG_STATEMENT_TIMEOUT_MS },
  );
  try {
    await checkReachable(pools);
    await checkTables(pools, mapping, { staging: false });
    await beforeWrite?.();
    if (migrate) await migrateStaging(config.STAGING_DATABASE_URL);
    await checkTables(pools, mapping);
  } catch (err) {
    await closePools(pools);
    throw err;
  }
  return { mapping, pools };
}
