import { strict as assert } from 'node:assert';
import { EMPTY_SET, sameSet, setDigestSql, setMinus, setPlus, type SetDigest } from '../../db/set-digest';

describe('set digests (db/set-digest.ts)', () => {
  const a: SetDigest = { count: 3n, lo: -9223372036854775808n, hi: 12n };
  const b: SetDigest = { count: 1n, lo: 9223372036854775807n, hi: -5n };

  it('sums beyond 64 bits exactly (the databases sum bigints as numeric)', () => {
    const sum = setPlus(setPlus(a, a), b);
    assert.equal(sum.lo, -9223372036854775808n * 2n + 9223372036854775807n);
    assert.deepEqual(setMinus(sum, b), setPlus(a, a));
  });

  it('calls sets the same only when count and both sums agree', () => {
    assert.ok(sameSet(setMinus(setPlus(a, b), b), a));
    assert.ok(!sameSet(a, { ...a, count: a.count + 1n }));
    assert.ok(!sameSet(a, { ...a, lo: a.lo + 1n }));
    assert.ok(!sameSet(a, { ...a, hi: a.hi - 1n }));
    assert.ok(sameSet(setPlus(EMPTY_SET, a), a));
  });

  it('hashes each member under two seeds and counts an empty set as zeros', () => {
    const sql = setDigestSql('code', 'FROM t');
    assert.match(sql, /hashtextextended\(v, 1\).*hashtextextended\(v, 2\)/s);
    assert.match(sql, /coalesce\(sum/);
  });
});
