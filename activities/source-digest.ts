import { hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { CompiledMapping } from '../mapping/types';

/**
 * What the reconciliation proves staging against (contract 5.1): every source row a run read, as a
 * key and a hash of the row's COPY text. The extraction hashes the bytes the source sends while they
 * stream into staging; the reconciliation hashes the staged rows of the same columns, printed by
 * COPY in the same session settings (UTC, ISO dates: db/pools.ts), and compares key by key. Same
 * column types on both sides (db/sql/staging/001) print the same text.
 */

/** Bytes kept of each row's SHA-256: a changed row goes unnoticed with odds of 2^-128. */
export const ROW_HASH_BYTES = 16;

/** The source columns in the order both sides print them: the key first, where the hasher reads it. */
export function keyFirstColumns(source: CompiledMapping['source']): string[] {
  return [source.key, ...source.columns.filter((c) => c !== source.key)];
}

/** Keys in the order read and their row hashes, ROW_HASH_BYTES each, in the same order. */
export interface RowHashes {
  keys: number[];
  hashes: Buffer;
}

/**
 * A pass-through stream over COPY text whose first field is an integer key: records every line's key
 * and hash and hands the bytes on unchanged. `dropLastField` leaves a trailing field out of the hash
 * (the run id the extraction appends for staging).
 */
export class RowHasher extends Transform {
  private readonly keys: number[] = [];
  private readonly digests: Buffer[] = [];
  private rest: Buffer | null = null;

  constructor(private readonly dropLastField = false) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    // COPY's text format escapes newlines inside values: a raw newline byte always ends a row.
    let start = 0;
    if (this.rest) {
      // Only the row cut in two is copied, never the whole chunk.
      const end = chunk.indexOf(10);
      if (end < 0) {
        this.rest = Buffer.concat([this.rest, chunk]);
        return done(null, chunk);
      }
      this.line(Buffer.concat([this.rest, chunk.subarray(0, end)]));
      this.rest = null;
      start = end + 1;
    }
    for (let end = chunk.indexOf(10, start); end >= 0; end = chunk.indexOf(10, start)) {
      this.line(chunk.subarray(start, end));
      start = end + 1;
    }
    if (start < chunk.length) this.rest = Buffer.from(chunk.subarray(start));
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    done(this.rest ? new Error('COPY data ended inside a row') : null);
  }

  private line(line: Buffer): void {
    const tab = line.indexOf(9);
    this.keys.push(Number(line.toString('latin1', 0, tab < 0 ? line.length : tab)));
    const end = this.dropLastField ? line.lastIndexOf(9) : line.length;
    this.digests.push(hash('sha256', line.subarray(0, end), 'buffer').subarray(0, ROW_HASH_BYTES));
  }

  result(): RowHashes {
    return { keys: this.keys, hashes: Buffer.concat(this.digests) };
  }
}

/** How the staged rows of a key range differ from what the source held there. */
export interface RowDifferences {
  /** Read from the source but not staged by this run (or staged under another run). */
  notStaged: number[];
  /** Staged by this run with other values than the source row read. */
  changed: number[];
  /** Staged under this run's id but never read from the source by it. */
  extra: number[];
}

/** Compares two key-ordered RowHashes (source read, staged) key by key. */
export function compareRowHashes(source: RowHashes, staged: RowHashes): RowDifferences {
  const out: RowDifferences = { notStaged: [], changed: [], extra: [] };
  const same = (i: number, j: number) =>
    source.hashes.compare(staged.hashes, j * ROW_HASH_BYTES, (j + 1) * ROW_HASH_BYTES, i * ROW_HASH_BYTES, (i + 1) * ROW_HASH_BYTES) === 0;
  let i = 0;
  let j = 0;
  while (i < source.keys.length || j < staged.keys.length) {
    const a = i < source.keys.length ? source.keys[i] : Infinity;
    const b = j < staged.keys.length ? staged.keys[j] : Infinity;
    if (a === b) {
      if (!same(i, j)) out.changed.push(a);
      i++;
      j++;
    } else if (a < b) {
      out.notStaged.push(a);
      i++;
    } else {
      out.extra.push(b);
      j++;
    }
  }
  return out;
}
