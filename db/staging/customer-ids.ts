/**
 * Statements that give staged codes their ids in customer_uuids (a code's customerId and
 * customerProfileId, assigned once and kept forever), and read them for preview and reconciliation.
 */
import type { Pool, PoolClient } from 'pg';
import { readSetDigest, type SetDigest } from '../set-digest';

type Db = Pool | PoolClient;

/** The lowest and highest code the run staged; null when it staged none. */
export async function stagedCodeRange(db: Db, runId: number): Promise<{ lo: number; hi: number } | null> {
  const range = (await db.query(`SELECT min(customer_code) AS lo, max(customer_code) AS hi FROM stg_customer WHERE extracted_run_id = $1`, [runId])).rows[0];
  return range.lo === null ? null : { lo: range.lo, hi: range.hi };
}

/** Gives every code the run staged in [lo, hi] that has no ids yet two new ones; answers how many codes got them. */
export async function assignIdsInRange(db: Db, runId: number, lo: number, hi: number): Promise<number> {
  const result = await db.query(
    `INSERT INTO customer_uuids (customer_code, "customerId", "customerProfileId")
     SELECT customer_code, gen_random_uuid(), gen_random_uuid() FROM stg_customer
     WHERE extracted_run_id = $1 AND customer_code BETWEEN $2 AND $3
     ON CONFLICT (customer_code) DO NOTHING`,
    [runId, lo, hi],
  );
  return result.rowCount ?? 0;
}

/** The ids of those of `codes` that have them, by code. */
export async function idsOfCodes(db: Db, codes: readonly number[]): Promise<Map<number, { cid: string; pid: string }>> {
  const found = await db.query(
    `SELECT customer_code, "customerId"::text AS cid, "customerProfileId"::text AS pid FROM customer_uuids WHERE customer_code = ANY($1::int[])`,
    [codes],
  );
  return new Map(found.rows.map((r) => [Number(r.customer_code), r as { cid: string; pid: string }]));
}

/** Set digests (db/set-digest.ts) of every code that has ids and of every customerId: one narrow table, two scans. */
export async function customerUuidSetDigests(db: Db): Promise<{ codes: SetDigest; customerIds: SetDigest }> {
  return {
    codes: await readSetDigest(db, 'customer_code', 'FROM customer_uuids'),
    customerIds: await readSetDigest(db, '"customerId"', 'FROM customer_uuids'),
  };
}
