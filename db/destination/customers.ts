import type { Readable } from 'node:stream';
import type { Pool, PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { ident, qualified } from '../copy';
import type { CompiledMapping, DestinationRow } from '../../mapping/types';

type Db = Pool | PoolClient;

/** The destination's customer and customer_profile rows of one customer id (the mapping's columns). */
export async function destinationRowsOf(db: Db, mapping: CompiledMapping, customerId: string): Promise<{ customer: DestinationRow | null; profile: DestinationRow | null }> {
  const d = mapping.destination;
  const [customer, profile] = await Promise.all([
    db.query(`SELECT ${d.customerColumns.map(ident).join(', ')} FROM ${qualified(d.schema, d.customerTable)} WHERE ${ident(d.customerKey)} = $1::uuid`, [customerId]),
    db.query(`SELECT ${d.profileColumns.map(ident).join(', ')} FROM ${qualified(d.schema, d.profileTable)} WHERE "customerId" = $1::uuid`, [customerId]),
  ]);
  return { customer: customer.rows[0] ?? null, profile: profile.rows[0] ?? null };
}

type Destination = CompiledMapping['destination'];

/** Of `customerIds`, those the destination's customer table holds (ids as lower-case text). */
export async function heldCustomerIds(db: Db, d: Destination, customerIds: readonly string[]): Promise<Set<string>> {
  const held = await db.query(`SELECT ${ident(d.customerKey)}::text AS id FROM ${qualified(d.schema, d.customerTable)} WHERE ${ident(d.customerKey)} = ANY($1::uuid[])`, [customerIds]);
  return new Set(held.rows.map((r) => r.id as string));
}

/** Every customer id the destination holds, as COPY text out of `client` (one id a line). */
export function copyOutCustomerIds(client: PoolClient, d: Destination): Readable {
  return client.query(copyTo(`COPY (SELECT ${ident(d.customerKey)} FROM ${qualified(d.schema, d.customerTable)}) TO STDOUT`));
}
