import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { readBranchRows } from '../db/staging/branch-map';
import { fetchStagedRange } from '../db/staging/customers';
import type { BranchLookup, BranchRef, CompiledMapping, MapResult, SourceRow } from '../mapping/types';
import type { TypeCounts } from '../contracts';
import type { RowPrinter } from '../db/pg-text';

export interface StagedRow {
  code: number;
  row: SourceRow;
  customerId: string;
  customerProfileId: string;
}

/** Rows per FETCH: a batch's staged rows never all sit in memory at once, only this many. */
const FETCH_ROWS = 1000;

/**
 * Visits one key range of a run's staged rows, in key order, with their stable ids. Load and
 * reconciliation both read through here, so the value check sees exactly what the load saw. The
 * rows come through a cursor, a thousand at a time (db/staging/customers.ts fetchStagedRange): the
 * caller keeps what it makes of them (COPY lines), never the parsed rows of the whole batch.
 * (Reading through COPY TO with a hand parser was measured too: slower than pg's row parser.)
 */
export async function eachStagedRow(
  staging: Pool,
  mapping: CompiledMapping,
  range: { runId: number; lo: number; hi: number },
  visit: (row: StagedRow) => void,
): Promise<number> {
  // Rows as arrays, each SourceRow built once as one object literal (object rows made pg build one
  // object by keyed stores and us a copy without the id columns: ~5 µs a row).
  const keyAt = mapping.source.columns.indexOf(mapping.source.key);
  const idAt = mapping.source.columns.length;
  let count = 0;
  await fetchStagedRange(staging, mapping.source, range, FETCH_ROWS, (rows) => {
    for (const values of rows) {
      const row = mapping.sourceRow(values);
      const code = Number(values[keyAt]);
      const customerId = values[idAt] as string | null;
      const customerProfileId = values[idAt + 1] as string | null;
      if (!customerId || !customerProfileId) throw new Error(`staged code ${code} has no customer_uuids row (assignUuids did not run for run ${range.runId})`);
      visit({ code, row, customerId, customerProfileId });
    }
    count += rows.length;
  });
  return count;
}

/**
 * Maps one key range of staged rows as a load does: counts per customer type, and every loaded row
 * printed into `printer`. Load and reconciliation both map through here, so the value check
 * re-applies exactly what the load applied; `each` sees every row with its result (issues, rejects).
 */
export async function mapStagedRange(
  staging: Pool,
  mapping: CompiledMapping,
  range: { runId: number; lo: number; hi: number },
  { runDate, branches, printer }: { runDate: string; branches: BranchLookup; printer: RowPrinter },
  each: (staged: StagedRow, result: MapResult) => void,
): Promise<{ staged: number; byType: Record<string, TypeCounts> }> {
  const byType: Record<string, TypeCounts> = {};
  const staged = await eachStagedRow(staging, mapping, range, (s) => {
    const result = mapping.mapRow(s.row, { runDate, customerId: s.customerId, customerProfileId: s.customerProfileId }, branches);
    const counts = (byType[result.customerType ?? UNKNOWN_TYPE] ??= { staged: 0, loaded: 0, rejected: 0 });
    counts.staged++;
    if (result.ok) {
      counts.loaded++;
      // The mapping's rows hold their columns in destination order (DestinationRow).
      printer.add(Object.values(result.customer), Object.values(result.profile));
    } else {
      counts.rejected++;
    }
    each(s, result);
  });
  return { staged, byType };
}

/** The bank's branch reference data as one batch maps with it, and its digest (for the run's fingerprint). */
export interface BranchMap {
  lookup: BranchLookup;
  /** SHA-256 of the rows as `code<TAB>id<TAB>name` lines in code order. */
  sha256: string;
}

/** branch_map is small reference data: read whole, keyed by code as stored. */
export async function readBranches(staging: Pool | PoolClient): Promise<BranchMap> {
  const rows = await readBranchRows(staging);
  const digest = createHash('sha256');
  for (const b of rows) digest.update(`${b.branch_code}\t${b.branch_id}\t${b.branch_name}\n`);
  return {
    lookup: new Map<string, BranchRef>(rows.map((b) => [b.branch_code, { branchId: b.branch_id, branchName: b.branch_name }])),
    sha256: digest.digest('hex'),
  };
}

export const UNKNOWN_TYPE = 'UNKNOWN';
