import { strict as assert } from 'node:assert';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compareRowHashes, ROW_HASH_BYTES, RowHasher, type RowHashes } from '../../activities/source-digest';

/** Streams `pieces` through a RowHasher, as COPY data arrives (rows split anywhere). */
async function hashed(pieces: string[], dropLastField = false): Promise<{ result: RowHashes; passed: string }> {
  const hasher = new RowHasher(dropLastField);
  let passed = '';
  await pipeline(Readable.from(pieces.map((p) => Buffer.from(p))), hasher, new Writable({ write: (c, _e, done) => ((passed += c.toString()), done()) }));
  return { result: hasher.result(), passed };
}

describe('source digest: row hashes of COPY text (contract 5.1)', () => {
  it("reads each row's key and hash, whatever the chunking, and passes the bytes on unchanged", async () => {
    const text = '1\tAda\t\\N\n22\tBo\\tb\tx\n333\tC\t2024-01-01 00:00:00+00\n';
    const whole = await hashed([text]);
    const split = await hashed([text.slice(0, 3), text.slice(3, 11), text.slice(11)]);
    assert.deepEqual(whole.result.keys, [1, 22, 333]);
    assert.equal(whole.result.hashes.length, 3 * ROW_HASH_BYTES);
    assert.deepEqual(split.result, whole.result);
    assert.deepEqual((await hashed(text.split(''))).result, whole.result, 'one byte at a time');
    assert.equal(split.passed, text);
  });

  it('leaves the appended run id out of the hash when asked', async () => {
    const plain = await hashed(['7\ta\tb\n']);
    const withRunId = await hashed(['7\ta\tb\t42\n'], true);
    assert.deepEqual(withRunId.result, plain.result);
  });

  it('refuses data that ends inside a row', async () => {
    await assert.rejects(hashed(['1\ta\n2\tb']), /ended inside a row/);
  });

  it('names keys read but not staged, staged with other values, and staged but never read', async () => {
    const source = (await hashed(['1\ta\n2\tb\n3\tc\n5\te\n'])).result;
    const staged = (await hashed(['1\ta\n3\tC\n4\td\n5\te\n'])).result;
    assert.deepEqual(compareRowHashes(source, staged), { notStaged: [2], changed: [3], extra: [4] });
    assert.deepEqual(compareRowHashes(source, source), { notStaged: [], changed: [], extra: [] });
  });
});
