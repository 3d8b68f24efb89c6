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

/** Every value's text as `v`: `SELECT ${memberText(expr)} FROM …` is the inner query setDigestSql reads. */
export const memberText = (expression: string): string => `(${expression})::text COLLATE "C" AS v`;

/** The digest of the rows of `members` (a query whose one column is `v`, from memberText). */
export function setDigestSql(members: string): string {
  const sum = (seed: number) => `coalesce(sum(hashtextextended(v, ${seed})), 0)::text`;
  return `SELECT count(*)::text AS n, ${sum(1)} AS lo, ${sum(2)} AS hi FROM (${members}) AS members`;
}

/** The set digest of a list of values (as text), computed by any of the databases: no table is read. */
export async function listSetDigest(db: { query: Pool['query'] }, values: readonly string[]): Promise<SetDigest> {
  return parseSetDigest((await db.query(setDigestSql(`SELECT ${memberText('unnest($1::text[])')}`), [values])).rows[0]);
}

export function parseSetDigest(row: { n: string; lo: string; hi: string }): SetDigest {
  return { count: BigInt(row.n), lo: BigInt(row.lo), hi: BigInt(row.hi) };
}

export const sameSet = (a: SetDigest, b: SetDigest): boolean => a.count === b.count && a.lo === b.lo && a.hi === b.hi;

export const setPlus = (a: SetDigest, b: SetDigest): SetDigest => ({ count: a.count + b.count, lo: a.lo + b.lo, hi: a.hi + b.hi });

/** The digest of a set without a subset of it (`part` ⊆ `whole`). */
export const setMinus = (whole: SetDigest, part: SetDigest): SetDigest => ({ count: whole.count - part.count, lo: whole.lo - part.lo, hi: whole.hi - part.hi });
