import type { Pool } from 'pg';
import { readColumnDataTypes } from '../db/catalog';
import { ident } from '../db/copy';
import { heldDigestSql, readHeldDigest } from '../db/destination/value-check';
import { linePrinter, rowPrinters, type BatchDigest, type LinePrinter, type RowPrinter } from '../db/pg-text';
import type { CompiledMapping } from '../mapping/types';

export interface ValueDigests {
  printer(): RowPrinter;
  /** The digest of the rows the destination holds for these customer ids, computed there. */
  held(customerIds: readonly unknown[]): Promise<BatchDigest>;
}

export const sameDigest = (a: BatchDigest, b: BatchDigest | null | undefined): boolean =>
  !!b && a.customers === b.customers && a.profiles === b.profiles && a.customerDigest === b.customerDigest && a.profileDigest === b.profileDigest;

/**
 * The lines a load COPYs into the destination are printed in the form PostgreSQL prints the stored
 * values back (db/pg-text.ts), in customer-id order; their digest is what the load records and what
 * the reconciliation has the destination compute over the rows it holds. The printers follow the
 * destination's column types, read from its catalogue once per pool.
 */
async function buildValueDigests(destination: Pool, mapping: CompiledMapping): Promise<ValueDigests> {
  const dest = mapping.destination;
  const customerKeyAt = dest.customerColumns.indexOf(dest.customerKey);
  if (customerKeyAt < 0 || !dest.profileColumns.includes('customerId'))
    throw new Error('the destination columns lack the customer key or customer_profile.customerId');

  const types = await readColumnDataTypes(destination, dest.schema, [dest.customerTable, dest.profileTable]);
  const printerOf = (table: string, names: readonly string[]): LinePrinter =>
    linePrinter(
      names.map((name) => ({ name, dataType: types.find((t) => t.table_name === table && t.column_name === name)?.data_type ?? 'text' })),
      ident,
    );
  const customer = printerOf(dest.customerTable, dest.customerColumns);
  const profile = printerOf(dest.profileTable, dest.profileColumns);
  const heldSql = heldDigestSql(dest, customer, profile);
  return {
    printer: rowPrinters(customer, profile, customerKeyAt),
    held: (customerIds) => readHeldDigest(destination, heldSql, customerIds),
  };
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
