import type { AppConfig } from '../config/env';
import { migrateStaging } from '../db/migrate';
import { createPools, Pools } from '../db/pools';
import { preflight } from '../db/preflight';
import { loadMappingFile } from '../mapping';
import type { CompiledMapping } from '../mapping/types';

/** What every process that touches the databases needs, validated: the mapping, pools, schema. */
export async function bootstrap(config: AppConfig, { migrate = true } = {}): Promise<{ mapping: CompiledMapping; pools: Pools }> {
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
    if (migrate) await migrateStaging(config.STAGING_DATABASE_URL);
    await preflight(pools, mapping);
  } catch (err) {
    await Promise.allSettled([pools.source.end(), pools.staging.end(), pools.destination.end()]);
    throw err;
  }
  return { mapping, pools };
}
