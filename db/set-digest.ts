/**
 * Order-free digests of sets of values, computed inside each database: how many values, and two
 * exact sums of 64-bit halves of each value's MD5 (of its text). Two databases agree on a set
 * without shipping it: equal digests mean equal sets unless 128 bits of hash sums collide (2^-128
 * for sets that differ by chance). The reconciliation's whole-table checks take equal digests as
 * proof and fall back to their exact comparison whenever they differ, so a difference always ends
 * in the exact comparison that names it.
 */
export interface SetDigest {
  count: bigint;
  lo: bigint;
  hi: bigint;
}

export const EMPTY_SET: SetDigest = { count: 0n, lo: 0n, hi: 0n };

/** Every value's MD5 as `h`: `SELECT ${memberHash(expr)} FROM …` is the inner query setDigestOf reads. */
export const memberHash = (expression: string): string => `md5((${expression})::text) AS h`;

/** The digest of the rows of `members` (a query whose one column is `h`, from memberHash). */
export function setDigestSql(members: string): string {
  const half = (from: number) => `coalesce(sum(('x' || substr(h, ${from}, 16))::bit(64)::bigint), 0)::text`;
  return `SELECT count(*)::text AS n, ${half(1)} AS lo, ${half(17)} AS hi FROM (${members}) AS members`;
}

export function parseSetDigest(row: { n: string; lo: string; hi: string }): SetDigest {
  return { count: BigInt(row.n), lo: BigInt(row.lo), hi: BigInt(row.hi) };
}

export const sameSet = (a: SetDigest, b: SetDigest): boolean => a.count === b.count && a.lo === b.lo && a.hi === b.hi;

export const setPlus = (a: SetDigest, b: SetDigest): SetDigest => ({ count: a.count + b.count, lo: a.lo + b.lo, hi: a.hi + b.hi });

/** The digest of a set without a subset of it (`part` ⊆ `whole`). */
export const setMinus = (whole: SetDigest, part: SetDigest): SetDigest => ({ count: whole.count - part.count, lo: whole.lo - part.lo, hi: whole.hi - part.hi });
