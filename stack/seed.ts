/**
 * Seeds the local stack's source table `efz_customer` with synthetic legacy rows (COPY, streamed,
 * bounded memory) and the staging `branch_map` with the bank's branches; mutates seeded rows for
 * incremental-run tests and the benchmark.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client, Pool } from 'pg';
import { applyDdl, migrateStaging } from '../db/migrate';
import { analyzeSeedTable, copyIntoSeedTable, emptySeedTable, mutateSeedRows, seedCodesTaken } from '../db/source/seed';
import { upsertBranchRows } from '../db/staging/branch-map';
import { inTransaction } from '../db/transaction';
import { BRANCH_CODES, CopyEncoder, EFZ_COLUMNS, generateBranches, generateRow, Rng, type BranchRow } from './synthetic';

export const DEFAULT_SEED = 1;
const MAX_CODE = 2_147_483_647; // customer_code is an integer
/** COPY data is handed to the socket in chunks of about this many bytes. */
const CHUNK_BYTES = 256 * 1024;

export interface SeedOptions {
  sourceUrl: string;
  stagingUrl: string;
  /** How many rows to write (codes startCode … startCode + rows - 1). */
  rows: number;
  /** PRNG seed (an unsigned 32-bit integer); default 1. */
  seed?: number;
  /** First customer_code; default 1. */
  startCode?: number;
  /** Empty efz_customer first; default true. */
  truncate?: boolean;
}

export interface SeedResult {
  rows: number;
  branches: number;
  seconds: number;
}

function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer between ${min} and ${max}, got ${value}`);
  }
}

const connection = (url: string, role: string) => ({ connectionString: url, application_name: `customer-migration:seed-${role}`, options: '-c TimeZone=UTC' });

function client(url: string, role: string): Client {
  return new Client(connection(url, role));
}

/** COPY text data for codes startCode … startCode + count - 1, in Buffers of ~256 KB, generated lazily. */
export function* copyChunks(seed: number, startCode: number, count: number): Generator<Buffer> {
  const rng = new Rng(0);
  const encoder = new CopyEncoder(CHUNK_BYTES);
  for (let i = 0; i < count; i++) {
    const full = encoder.push(generateRow(seed, startCode + i, rng).row);
    if (full !== null) yield full;
  }
  const last = encoder.flush();
  if (last !== null) yield last;
}

/** Inserts or updates the bank's branches in the staging `branch_map`. */
export async function upsertBranches(stagingUrl: string, branches: readonly BranchRow[] = generateBranches()): Promise<number> {
  const staging = client(stagingUrl, 'staging');
  await staging.connect();
  try {
    return (await upsertBranchRows(staging, branches)) ?? branches.length;
  } finally {
    await staging.end();
  }
}

/**
 * Creates the source table (idempotent DDL) and the staging schema (migrations), upserts branch_map,
 * then streams `rows` synthetic rows into efz_customer with COPY FROM STDIN in one transaction.
 * With `truncate` (the default) the table is emptied in the same transaction and loaded with
 * COPY … FREEZE; without it, the codes to write must all be free (checked first).
 */
export async function seedSource(opts: SeedOptions): Promise<SeedResult> {
  const started = process.hrtime.bigint();
  const seed = opts.seed ?? DEFAULT_SEED;
  const startCode = opts.startCode ?? 1;
  const truncate = opts.truncate ?? true;
  checkInt('rows', opts.rows, 0, MAX_CODE);
  checkInt('seed', seed, 0, 0xffffffff);
  checkInt('startCode', startCode, 1, MAX_CODE);
  if (opts.rows > 0 && startCode + opts.rows - 1 > MAX_CODE) {
    throw new RangeError(`startCode + rows - 1 exceeds the largest customer_code (${MAX_CODE})`);
  }

  await applyDdl(opts.sourceUrl, 'source');
  await migrateStaging(opts.stagingUrl);
  const branches = await upsertBranches(opts.stagingUrl);

  // One connection, taken from a pool of one so that its transaction goes through inTransaction.
  const pool = new Pool({ ...connection(opts.sourceUrl, 'source'), max: 1 });
  try {
    const source = await pool.connect();
    try {
      await inTransaction(source, async () => {
        if (truncate) {
          await emptySeedTable(source);
        } else if (opts.rows > 0) {
          const last = startCode + opts.rows - 1;
          const { n, lo, hi } = await seedCodesTaken(source, startCode, last);
          if (Number(n) > 0) {
            throw new Error(
              `efz_customer already holds ${n} of the codes ${startCode}–${last} (${lo}–${hi}): ` +
                'choose a --start-code past the existing codes, or let the seed truncate the table',
            );
          }
        }
        await pipeline(Readable.from(copyChunks(seed, startCode, opts.rows)), copyIntoSeedTable(source, EFZ_COLUMNS, truncate));
      });
      // Fresh statistics, so that the extract's first plans are sane.
      await analyzeSeedTable(source);
    } finally {
      source.release();
    }
  } finally {
    await pool.end();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { rows: opts.rows, branches, seconds };
}

export interface MutateOptions {
  sourceUrl: string;
  /** The share of existing rows to change, in (0, 1]. */
  fraction: number;
  /** Chooses which rows (the same seed and fraction always pick the same codes); default 1. */
  seed?: number;
}

/**
 * Updates a deterministic pseudo-random `fraction` of the existing rows in one set-based statement:
 * a new address line and phone number, the next kyc level and risk rating, and for a tenth of them
 * a status flip (ACTIVE ↔ DORMANT, which also repairs an unknown status). Every changed row gets a
 * distinct updated_at, strictly after every updated_at in the table and no earlier than now
 * (clock_timestamp() plus one microsecond per row, in code order). Values derive from the row's
 * previous updated_at, so each call changes them again.
 */
export async function mutateSource(opts: MutateOptions): Promise<{ updated: number }> {
  const seed = opts.seed ?? DEFAULT_SEED;
  checkInt('seed', seed, 0, 0xffffffff);
  if (!(opts.fraction > 0 && opts.fraction <= 1)) throw new RangeError(`fraction must be in (0, 1], got ${opts.fraction}`);
  const threshold = Math.min(Math.ceil(opts.fraction * 2 ** 32), 2 ** 32);
  const streets = ['Marina Road', 'Allen Avenue', 'Ahmadu Bello Way', 'Aba Road', 'Ring Road', 'Admiralty Way', 'Broad Street', 'Ogui Road'];

  const source = client(opts.sourceUrl, 'source');
  await source.connect();
  try {
    return { updated: await mutateSeedRows(source, seed, threshold, streets) };
  } finally {
    await source.end();
  }
}

/** The branch codes seeded into branch_map (for tests that need a known or unknown code). */
export { BRANCH_CODES };
