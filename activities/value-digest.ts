import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { ident, qualified } from '../db/copy';
import { rowPrinter, type RowPrinter } from '../db/pg-text';
import type { CompiledMapping } from '../mapping/types';

/** A batch's rows in both destination tables, summed up: row counts and SHA-256 digests. */
export interface BatchDigest {
  customers: number;
  customerDigest: string;
  profiles: number;
  profileDigest: string;
}

export interface ValueDigests {
  /** The digest of mapped rows (value arrays in the mapping's destination column order). */
  expected(customers: readonly unknown[][], profiles: readonly unknown[][]): BatchDigest;
  /** The digest of the rows the destination holds for these customer ids, computed there. */
  held(customerIds: readonly unknown[]): Promise<BatchDigest>;
}

export const sameDigest = (a: BatchDigest, b: BatchDigest | null | undefined): boolean =>
  !!b && a.customers === b.customers && a.profiles === b.profiles && a.customerDigest === b.customerDigest && a.profileDigest === b.profileDigest;

/**
 * Digests of destination rows, printed the same way here (from mapped values) and in PostgreSQL
 * (from stored rows; db/pg-text.ts), each table's rows in customer-id order. Equal digests prove
 * equal rows without shipping them anywhere; the printers follow the destination's column types,
 * read from its catalogue once per pool.
 */
function buildValueDigests(destination: Pool, mapping: CompiledMapping): Promise<ValueDigests> {
  const dest = mapping.destination;
  const customerKeyAt = dest.customerColumns.indexOf(dest.customerKey);
  const profileLinkAt = dest.profileColumns.indexOf('customerId');
  if (customerKeyAt < 0 || profileLinkAt < 0) return Promise.reject(new Error('the destination columns lack the customer key or customer_profile.customerId'));

  const digestSql = (table: string, printer: RowPrinter, idColumn: string) =>
    `SELECT count(*)::int AS n, encode(sha256(convert_to(coalesce(string_agg(${printer.sql}, E'\\n' ORDER BY ${idColumn}), ''), 'UTF8')), 'hex') AS digest
     FROM ${table} WHERE ${idColumn} = ANY($1::uuid[])`;

  function digestOf(rows: readonly unknown[][], idAt: number, printer: RowPrinter): string {
    const ids = rows.map((row) => String(row[idAt]).toLowerCase());
    const order = ids.map((_, i) => i).sort((a, b) => (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0));
    const hash = createHash('sha256');
    order.forEach((i, n) => hash.update(n === 0 ? printer.text(rows[i]) : '\n' + printer.text(rows[i])));
    return hash.digest('hex');
  }

  return destination
    .query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name IN ($2, $3)`,
      [dest.schema, dest.customerTable, dest.profileTable],
    )
    .then((types) => {
      const columnsOf = (table: string, names: readonly string[]) =>
        names.map((name) => ({ name, dataType: types.rows.find((t) => t.table_name === table && t.column_name === name)?.data_type ?? 'text' }));
      const customer = rowPrinter(columnsOf(dest.customerTable, dest.customerColumns), ident);
      const profile = rowPrinter(columnsOf(dest.profileTable, dest.profileColumns), ident);
      const heldSql = `SELECT c.n AS customers, c.digest AS "customerDigest", p.n AS profiles, p.digest AS "profileDigest"
        FROM (${digestSql(qualified(dest.schema, dest.customerTable), customer, ident(dest.customerKey))}) c,
             (${digestSql(qualified(dest.schema, dest.profileTable), profile, '"customerId"')}) p`;
      return {
        expected: (customers, profiles) => ({
          customers: customers.length,
          customerDigest: digestOf(customers, customerKeyAt, customer),
          profiles: profiles.length,
          profileDigest: digestOf(profiles, profileLinkAt, profile),
        }),
        held: async (customerIds) => (await destination.query<BatchDigest>(heldSql, [customerIds])).rows[0],
      };
    });
}

const cache = new WeakMap<Pool, Promise<ValueDigests>>();

export function valueDigests(destination: Pool, mapping: CompiledMapping): Promise<ValueDigests> {
  let digests = cache.get(destination);
  if (!digests) {
    digests = buildValueDigests(destination, mapping);
    digests.catch(() => cache.delete(destination)); // a failed catalogue read is tried again next time
    cache.set(destination, digests);
  }
  return digests;
}
