/**
 * The mapping engine's contract with the rest of the service. Pure data: no I/O anywhere in mapping/.
 */

/** One staged (or source) row, keyed by source column name, as `pg` returns it with the service's
 * type parsers: text columns as string|null, kyc_level as number|null, is_deleted as boolean,
 * created_at/updated_at as PostgreSQL's own text (microseconds kept, e.g. '2024-01-02 03:04:05.123456+00'). */
export type SourceRow = Record<string, string | number | boolean | null>;

export interface BranchRef {
  branchId: string;
  branchName: string;
}

/** Branch codes are looked up upper-cased; the map's keys are the branch_map codes as stored. */
export type BranchLookup = ReadonlyMap<string, BranchRef>;

/** Constants that come from the service configuration (environment), not from the mapping file. */
export interface MappingConstants {
  tenantId: string;
  migrationUserId: string;
  migrationUserName: string;
}

export interface RowContext {
  /** The run's start date in UTC, 'YYYY-MM-DD': "in the future" means after it. */
  runDate: string;
  customerId: string;
  customerProfileId: string;
}

export interface MappingIssue {
  severity: 'REJECT' | 'WARNING';
  reason: string;
  /** The offending source column, e.g. 'bvn'. */
  field: string;
  /** The original (raw, untrimmed) source value as text, or null when it was missing. */
  value: string | null;
}

/** Values keyed by destination column name, in the destination table's column order. */
export type DestinationRow = Record<string, unknown>;

export type MapResult =
  | {
      ok: true;
      customerType: string;
      customer: DestinationRow;
      profile: DestinationRow;
      warnings: MappingIssue[];
    }
  | {
      ok: false;
      /** The normalised type when it could be determined, else null (UNKNOWN_CUSTOMER_TYPE). */
      customerType: string | null;
      reject: MappingIssue;
      warnings: MappingIssue[];
    };

export interface CompiledMapping {
  /** What the mapping was compiled from: the document's SHA-256 as loaded, and the constants. */
  identity: { documentSha256: string; constants: MappingConstants };
  /** Source table, key column, watermark column and the columns to extract, from the mapping file. */
  source: { schema: string; table: string; key: string; watermark: string; columns: readonly string[] };
  destination: {
    schema: string;
    customerTable: string;
    profileTable: string;
    /** Destination columns in order; the values of MapResult.customer / .profile use these keys. */
    customerColumns: readonly string[];
    profileColumns: readonly string[];
    /** Key columns used for upserts. */
    customerKey: string;
    profileKey: string;
  };
  /** The customer types the mapping can produce, e.g. ['INDIVIDUAL', 'CORPORATE']. */
  customerTypes: readonly string[];
  /**
   * The fields looked up in reference data (branch_map): their source column, the key the engine looks
   * up for a raw value (null when the value is missing) and the reject code of a missing/unknown key.
   */
  lookups: readonly { field: string; source: string; table: string; key(raw: unknown): string | null; rejectReason: string | null }[];
  /** A SourceRow from the values of `source.columns` in that order (one object shape for every row). */
  sourceRow(values: readonly unknown[]): SourceRow;
  mapRow(row: SourceRow, ctx: RowContext, branches: BranchLookup): MapResult;
}
