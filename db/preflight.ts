import type { Pool } from 'pg';
import type { CompiledMapping } from '../mapping/types';
import { redactSecrets } from '../lib/redact';
import type { Pools } from './pools';

export class PreflightError extends Error {
  override name = 'PreflightError';
}

async function missingColumns(pool: Pool, schema: string, table: string, columns: readonly string[]): Promise<string[] | null> {
  const result = await pool.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`,
    [schema, table],
  );
  if (!result.rowCount) return null;
  const present = new Set(result.rows.map((r) => r.column_name));
  return columns.filter((c) => !present.has(c));
}

/**
 * Before any run: every database answers, the source table and the destination tables exist with the
 * columns the mapping names. One clear message per problem; nothing is written.
 */
export async function preflight(pools: Pools, mapping: CompiledMapping): Promise<void> {
  const problems: string[] = [];
  for (const role of ['source', 'staging', 'destination'] as const) {
    try {
      await pools[role].query('SELECT 1');
    } catch (err) {
      throw new PreflightError(`${role} database unreachable: ${redactSecrets((err as Error).message)}`);
    }
  }
  const { source, destination: dest } = mapping;
  const checks: [Pool, string, string, string, readonly string[]][] = [
    [pools.source, 'source', source.schema, source.table, source.columns],
    [pools.destination, 'destination', dest.schema, dest.customerTable, dest.customerColumns],
    [pools.destination, 'destination', dest.schema, dest.profileTable, dest.profileColumns],
    [pools.staging, 'staging', 'public', 'stg_customer', source.columns],
  ];
  for (const [pool, role, schema, table, columns] of checks) {
    const missing = await missingColumns(pool, schema, table, columns);
    if (missing === null) problems.push(`${role} table ${schema}.${table} does not exist`);
    else if (missing.length) problems.push(`${role} table ${schema}.${table} has no column(s) ${missing.join(', ')} named by the mapping`);
  }
  if (problems.length) throw new PreflightError(problems.join('; '));
}
