import type { Pool, PoolClient } from 'pg';
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
