import type { AppConfig } from '../../config/env';
import { createPool, type Pools } from '../../db/pools';
import { loadMappingFile } from '../../mapping';
import type { CliContext } from '../context';
import { runPreflight, type PreflightReport } from '../preflight';
import { table } from '../render';

function printReport(r: PreflightReport): void {
  console.log(
    table(
      r.findings.map((x) => [x.severity, x.area, x.check, x.message]),
      ['severity', 'area', 'check', 'finding'],
    ),
  );
  const c = r.counts;
  console.log('');
  console.log(
    r.ok
      ? `preflight: no blocker (${c.warnings} warning(s), ${c.infos} info): the run can start. Nothing was written.`
      : `preflight: ${c.blockers} BLOCKER(s), ${c.warnings} warning(s): fix the blockers before the window. Nothing was written.`,
  );
}

/** `preflight`: every check before a window, as a table (or --json); exit 0 without a blocker, 1 with one. */
export async function preflightCommand(ctx: CliContext, options: { sampleSize?: number }): Promise<number> {
  const config: AppConfig = ctx.config;
  const mapping = loadMappingFile(config.MAPPING_FILE, {
    tenantId: config.TENANT_ID,
    migrationUserId: config.MIGRATION_USER_ID,
    migrationUserName: config.MIGRATION_USER_NAME,
  });
  const open = (role: 'source' | 'destination') =>
    createPool({
      url: role === 'source' ? config.SOURCE_DATABASE_URL : config.DESTINATION_DATABASE_URL,
      role,
      max: 2,
      statementTimeoutMs: config.PG_STATEMENT_TIMEOUT_MS,
      applicationName: 'customer-migration:cli-preflight',
    });
  const pools: Pools = { source: open('source'), staging: ctx.staging(), destination: open('destination') };
  try {
    const report = await runPreflight(
      { config, mapping, pools, temporal: () => ctx.client() },
      { sampleSize: options.sampleSize ?? config.PREFLIGHT_SAMPLE_SIZE },
    );
    if (ctx.json) console.log(JSON.stringify(report));
    else printReport(report);
    return report.ok ? 0 : 1;
  } finally {
    // The staging pool is the context's, closed with it.
    await Promise.allSettled([pools.source.end(), pools.destination.end()]);
  }
}
