import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { escapeIdentifier } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** Quotes a validated SQL identifier (schema, table, column); configuration names always pass through here. */
export const ident = escapeIdentifier;

export function qualified(schema: string, table: string): string {
  return `${ident(schema)}.${ident(table)}`;
}

const SPECIAL = /[\\\n\r\t]/;
const SPECIALS = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Text as one field of COPY's text format: backslash, newline, carriage return and tab escaped. */
export function copyEscape(text: string): string {
  return SPECIAL.test(text) ? text.replace(SPECIALS, (ch) => ESCAPES[ch]) : text;
}

/** One value in COPY's text format: \N for null, booleans as t/f, objects as JSON. */
export function copyValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'string') return copyEscape(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return String(value);
  return copyEscape(JSON.stringify(value));
}

/** One row (values in column order) as a line of COPY's text format. */
export function copyLine(row: readonly unknown[]): string {
  let line = '';
  for (let i = 0; i < row.length; i++) line += (i ? '\t' : '') + copyValue(row[i]);
  return line + '\n';
}

/**
 * COPY text lines held as UTF-8 bytes in one growing buffer, each line encoded as it is printed. A
 * batch's lines are kept until its COPY: as strings they outlived V8's young generation and were
 * copied and marked by every collection meanwhile; as bytes they sit outside the heap.
 */
export class EncodedLines {
  private bytes: Buffer;
  private ends: number[] = [];
  private used = 0;

  constructor(capacity = 1 << 20) {
    this.bytes = Buffer.allocUnsafe(capacity);
  }

  get length(): number {
    return this.ends.length;
  }

  get byteLength(): number {
    return this.used;
  }

  push(line: string): void {
    const room = line.length * 3; // UTF-8 bytes a UTF-16 unit at most
    if (this.used + room > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.used + room));
      this.bytes.copy(bigger, 0, 0, this.used);
      this.bytes = bigger;
    }
    this.used += this.bytes.write(line, this.used);
    this.ends.push(this.used);
  }

  /** All lines' bytes, in order. */
  all(): Buffer {
    return this.bytes.subarray(0, this.used);
  }

  /** Line i's bytes (with its newline). */
  line(i: number): Buffer {
    return this.bytes.subarray(this.start(i), this.ends[i]);
  }

  /** The lines in the order of `indexes` (each index once): a new EncodedLines of the same bytes. */
  reordered(indexes: readonly number[]): EncodedLines {
    const out = new EncodedLines(Math.max(1, this.used));
    for (const i of indexes) {
      out.used += this.bytes.copy(out.bytes, out.used, this.start(i), this.ends[i]);
      out.ends.push(out.used);
    }
    return out;
  }

  /** The bytes of the lines `keep` accepts, in order. */
  selected(keep: (i: number) => boolean): Buffer {
    return Buffer.concat(
      this.ends
        .map((_, i) => i)
        .filter(keep)
        .map((i) => this.line(i)),
    );
  }

  private start(i: number): number {
    return i ? this.ends[i - 1] : 0;
  }
}

/** Streams COPY text already encoded (whole lines, e.g. from EncodedLines) into `table` with COPY FROM STDIN. */
export async function copyBytes(client: PoolClient, table: string, columns: readonly string[], bytes: Buffer): Promise<void> {
  const sql = `COPY ${table} (${columns.map(ident).join(', ')}) FROM STDIN`;
  await pipeline(Readable.from(slices(bytes, COPY_MESSAGE_BYTES)), client.query(copyFrom(sql)));
}

/**
 * COPY data goes out in messages of this size: PostgreSQL parses a message only once all of it has
 * arrived, so one message of a whole batch (megabytes) left it idle while the batch was sent.
 * Messages need not end at a line's end (the protocol's CopyData is a byte stream).
 */
const COPY_MESSAGE_BYTES = 64 * 1024;

function* slices(bytes: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** Streams rows (arrays of values in `columns` order) into `table` with COPY FROM STDIN. */
export async function copyRows(client: PoolClient, table: string, columns: readonly string[], rows: Iterable<readonly unknown[]>): Promise<void> {
  const lines = new EncodedLines(64 * 1024);
  for (const row of rows) lines.push(copyLine(row));
  await copyBytes(client, table, columns, lines.all());
}

/**
 * Fills a session-private table shaped like `likeTable` (emptied at commit) with encoded COPY text
 * lines: the staging area of a set-based statement. Call inside a transaction.
 */
export async function copyIntoTemp(client: PoolClient, temp: string, likeTable: string, columns: readonly string[], bytes: Buffer): Promise<void> {
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${ident(temp)} (LIKE ${likeTable}) ON COMMIT DELETE ROWS`);
  await copyBytes(client, ident(temp), columns, bytes);
}
