import type { Pool } from 'pg';
import type { CompiledMapping } from '../mapping/types';
import { isNetworkError, plainMessage } from './errors';
import type { DatabaseRole, Pools } from './pools';

export class PreflightError extends Error {
  override name = 'PreflightError';
}

async function missingColumns(pool: Pool, schema: string, table: string, columns: readonly string[]): Promise<string[] | null> {
  const result = await pool.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`, [
    schema,
    table,
  ]);
  if (!result.rowCount) return null;
  const present = new Set(result.rows.map((r) => r.column_name));
  return columns.filter((c) => !present.has(c));
}

/** What an operator reads when a database does not answer: the role, the error, and for a network error the setting to check. */
export function unreachableMessage(role: DatabaseRole, err: unknown): string {
  const hint = isNetworkError(err) ? ` (check ${role.toUpperCase()}_DATABASE_URL and that the server is up)` : '';
  return `${role} database unreachable: ${plainMessage(err)}${hint}`;
}

/** Every database answers (read-only: one SELECT 1 each). The first that does not is named. */
export async function checkReachable(pools: Pools): Promise<void> {
  const roles: DatabaseRole[] = ['source', 'staging', 'destination'];
  const results = await Promise.allSettled(roles.map((role) => pools[role].query('SELECT 1')));
  results.forEach((r, i) => {
    if (r.status === 'rejected') throw new PreflightError(unreachableMessage(roles[i], r.reason));
  });
}

/**
 * The tables the mapping names exist with the columns it names. Read-only (information_schema).
 * `staging: false` skips stg_customer, for the check that runs before the staging schema is migrated.
 */
export async function checkTables(pools: Pools, mapping: CompiledMapping, { staging = true } = {}): Promise<void> {
  const problems: string[] = [];
  const { source, destination: dest } = mapping;
  const checks: [Pool, string, string, string, readonly string[]][] = [
    [pools.source, 'source', source.schema, source.table, source.columns],
    [pools.destination, 'destination', dest.schema, dest.customerTable, dest.customerColumns],
    [pools.destination, 'destination', dest.schema, dest.profileTable, dest.profileColumns],
  ];
  if (staging) checks.push([pools.staging, 'staging', 'public', 'stg_customer', source.columns]);
  for (const [pool, role, schema, table, columns] of checks) {
    const missing = await missingColumns(pool, schema, table, columns);
    if (missing === null) problems.push(`${role} table ${schema}.${table} does not exist`);
    else if (missing.length) problems.push(`${role} table ${schema}.${table} has no column(s) ${missing.join(', ')} named by the mapping`);
  }
  if (problems.length) throw new PreflightError(problems.join('; '));
}
