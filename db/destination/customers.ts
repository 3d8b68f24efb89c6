import type { Readable } from 'node:stream';
import type { Pool, PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { copyBytes, copyIntoTemp, ident, qualified, type EncodedLines } from '../copy';
import type { CompiledMapping, DestinationRow } from '../../mapping/types';
import { readSetDigest, type SetDigest } from '../set-digest';

type Db = Pool | PoolClient;

/** The destination's customer and customer_profile rows of one customer id (the mapping's columns). */
export async function destinationRowsOf(
  db: Db,
  mapping: CompiledMapping,
  customerId: string,
): Promise<{ customer: DestinationRow | null; profile: DestinationRow | null }> {
  const d = mapping.destination;
  const [customer, profile] = await Promise.all([
    db.query(`SELECT ${d.customerColumns.map(ident).join(', ')} FROM ${qualified(d.schema, d.customerTable)} WHERE ${ident(d.customerKey)} = $1::uuid`, [
      customerId,
    ]),
    db.query(`SELECT ${d.profileColumns.map(ident).join(', ')} FROM ${qualified(d.schema, d.profileTable)} WHERE "customerId" = $1::uuid`, [customerId]),
  ]);
  return { customer: customer.rows[0] ?? null, profile: profile.rows[0] ?? null };
}

type Destination = CompiledMapping['destination'];

/** Of `customerIds`, those the destination's customer table holds (ids as lower-case text). */
export async function heldCustomerIds(db: Db, d: Destination, customerIds: readonly string[]): Promise<Set<string>> {
  const held = await db.query(
    `SELECT ${ident(d.customerKey)}::text AS id FROM ${qualified(d.schema, d.customerTable)} WHERE ${ident(d.customerKey)} = ANY($1::uuid[])`,
    [customerIds],
  );
  return new Set(held.rows.map((r) => r.id as string));
}

/** The set digest (db/set-digest.ts) of the customer ids the destination holds: all of them, or those of `among`. */
export async function customerIdSetDigest(db: Db, d: Destination, among?: readonly string[]): Promise<SetDigest> {
  const key = ident(d.customerKey);
  const from = `FROM ${qualified(d.schema, d.customerTable)}`;
  return among ? readSetDigest(db, key, `${from} WHERE ${key} = ANY($1::uuid[])`, [among]) : readSetDigest(db, key, from);
}

/** Every customer id the destination holds, as COPY text out of `client` (one id a line). */
export function copyOutCustomerIds(client: PoolClient, d: Destination): Readable {
  return client.query(copyTo(`COPY (SELECT ${ident(d.customerKey)} FROM ${qualified(d.schema, d.customerTable)}) TO STDOUT`));
}

/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505';

/** Names the writing run in the transaction (auditing triggers can read it): no customer value. */
export async function nameWritingRun(client: PoolClient, runId: number): Promise<void> {
  await client.query(`SELECT set_config('customer_migration.run_id', $1, true)`, [String(runId)]);
}

/** Both tables' rows (COPY text, lines in the mapping's column order) COPYed in as new rows: customers, then profiles. */
export async function copyNewRows(client: PoolClient, d: Destination, rows: { customerLines: Buffer; profileLines: Buffer }): Promise<void> {
  await copyBytes(client, qualified(d.schema, d.customerTable), d.customerColumns, rows.customerLines);
  await copyBytes(client, qualified(d.schema, d.profileTable), d.profileColumns, rows.profileLines);
}

/** COPYs all lines as new rows under a savepoint; false (and nothing written) where a unique key refused them. */
export async function copiedAllNew(client: PoolClient, d: Destination, customerLines: EncodedLines, profileLines: EncodedLines): Promise<boolean> {
  if (customerLines.length === 0) return true;
  await client.query('SAVEPOINT all_new');
  try {
    await copyNewRows(client, d, { customerLines: customerLines.all(), profileLines: profileLines.all() });
  } catch (err) {
    if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
    await client.query('ROLLBACK TO SAVEPOINT all_new');
    return false;
  }
  await client.query('RELEASE SAVEPOINT all_new');
  return true;
}

function upsertSql(target: string, temp: string, columns: readonly string[], key: string): string {
  const cols = columns.map(ident);
  const nonKey = columns.filter((c) => c !== key).map(ident);
  // Unchanged rows are not rewritten: re-reading rows (look-back, retries, re-runs) costs no writes.
  return `INSERT INTO ${target} AS t (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM ${temp}
      ON CONFLICT (${ident(key)}) DO UPDATE SET ${nonKey.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}
      WHERE (${nonKey.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM (${nonKey.map((c) => `EXCLUDED.${c}`).join(', ')})`;
}

/** Upserts rows the destination already holds (through temp tables shaped like its own): customers, then profiles. */
export async function upsertRows(client: PoolClient, d: Destination, rows: { customerLines: Buffer; profileLines: Buffer }): Promise<void> {
  const customerTable = qualified(d.schema, d.customerTable);
  const profileTable = qualified(d.schema, d.profileTable);
  await copyIntoTemp(client, 'load_customer', customerTable, d.customerColumns, rows.customerLines);
  await client.query(upsertSql(customerTable, 'load_customer', d.customerColumns, d.customerKey));
  await copyIntoTemp(client, 'load_profile', profileTable, d.profileColumns, rows.profileLines);
  await client.query(upsertSql(profileTable, 'load_profile', d.profileColumns, d.profileKey));
}

/** Serialises the writes of one batch's attempts (a transaction-scoped advisory lock). */
export async function lockBatchWrites(client: PoolClient, runId: number, batchNo: number): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock($1::int, $2::int)`, [runId % 2 ** 31, batchNo]);
}

/** Deletes the rows of these customer ids from both tables, profiles first. */
export async function deleteCustomerRows(client: PoolClient, d: Destination, customerIds: readonly string[]): Promise<void> {
  await client.query(`DELETE FROM ${ident(d.schema)}.${ident(d.profileTable)} WHERE "customerId" = ANY($1::uuid[])`, [customerIds]);
  await client.query(`DELETE FROM ${ident(d.schema)}.${ident(d.customerTable)} WHERE ${ident(d.customerKey)} = ANY($1::uuid[])`, [customerIds]);
}
