import type { Pool } from 'pg';

/**
 * Order-free digests of sets of values, computed inside each database: how many values, and two
 * exact sums of 64-bit hashes of each value's text (PostgreSQL's hashtextextended under two seeds,
 * the hash that hash partitioning keeps stable across versions). Two databases agree on a set
 * without shipping it: equal digests mean equal sets unless 128 bits of hash sums collide by
 * chance. The reconciliation's whole-table checks take equal digests as proof and fall back to
 * their exact comparison whenever they differ, so a difference always ends in the comparison that
 * names it. (MD5 halves measured 4× slower: 1.3 s against 0.3 s for 1M ids.)
 */
export interface SetDigest {
  count: bigint;
  lo: bigint;
  hi: bigint;
}

export const EMPTY_SET: SetDigest = { count: 0n, lo: 0n, hi: 0n };

/** The SQL computing the digest of `value` over the rows of `from` (FROM … WHERE …; empty for a set-returning value). */
export function setDigestSql(value: string, from: string): string {
  const sum = (seed: number) => `coalesce(sum(hashtextextended(v, ${seed})), 0)::text`;
  return `SELECT count(*)::text AS n, ${sum(1)} AS lo, ${sum(2)} AS hi FROM (SELECT (${value})::text COLLATE "C" AS v ${from}) AS members`;
}

/** Reads the set digest of `value` over the rows of `from` (setDigestSql) from any of the databases. */
export async function readSetDigest(db: { query: Pool['query'] }, value: string, from: string, params: unknown[] = []): Promise<SetDigest> {
  const row: { n: string; lo: string; hi: string } = (await db.query(setDigestSql(value, from), params)).rows[0];
  return { count: BigInt(row.n), lo: BigInt(row.lo), hi: BigInt(row.hi) };
}

/** The set digest of a list of values (as text): no table is read. */
export const listSetDigest = (db: { query: Pool['query'] }, values: readonly string[]): Promise<SetDigest> =>
  readSetDigest(db, 'unnest($1::text[])', '', [values]);

export const sameSet = (a: SetDigest, b: SetDigest): boolean => a.count === b.count && a.lo === b.lo && a.hi === b.hi;

export const setPlus = (a: SetDigest, b: SetDigest): SetDigest => ({ count: a.count + b.count, lo: a.lo + b.lo, hi: a.hi + b.hi });

/** The digest of a set without a subset of it (`part` ⊆ `whole`). */
export const setMinus = (whole: SetDigest, part: SetDigest): SetDigest => ({ count: whole.count - part.count, lo: whole.lo - part.lo, hi: whole.hi - part.hi });
