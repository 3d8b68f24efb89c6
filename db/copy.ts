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

const PIECE_BYTES = 1 << 20;

/**
 * Lines in UTF-8 pieces of about 1 MB, each line written straight into the piece's buffer: joining
 * lines into a string first made V8 flatten it before encoding, which cost more than the SHA-256 of
 * the bytes. A line starts a new piece when it might not fit (3 bytes a UTF-16 unit at most).
 */
export function* encodedPieces(lines: Iterable<string>): Generator<Buffer> {
  let piece = Buffer.allocUnsafe(PIECE_BYTES);
  let used = 0;
  for (const line of lines) {
    if (used + line.length * 3 > piece.length) {
      if (used) yield piece.subarray(0, used);
      piece = Buffer.allocUnsafe(Math.max(PIECE_BYTES, line.length * 3));
      used = 0;
    }
    used += piece.write(line, used);
  }
  if (used) yield piece.subarray(0, used);
}

/** Lines encoded once (encodedPieces), for a COPY and a digest of the same bytes. */
export function encodedChunks(lines: Iterable<string>): Buffer[] {
  return Array.from(encodedPieces(lines));
}

/** Streams COPY text (pieces of whole lines, each line ending in a newline) into `table` with COPY FROM STDIN. */
async function copyText(client: PoolClient, table: string, columns: readonly string[], pieces: Iterable<Buffer>): Promise<void> {
  const sql = `COPY ${table} (${columns.map(ident).join(', ')}) FROM STDIN`;
  await pipeline(Readable.from(pieces), client.query(copyFrom(sql)));
}

/** Streams lines of COPY's text format (each ending in a newline) into `table` with COPY FROM STDIN. */
export async function copyLines(client: PoolClient, table: string, columns: readonly string[], lines: Iterable<string>): Promise<void> {
  await copyText(client, table, columns, encodedPieces(lines));
}

/** Streams lines already encoded by encodedChunks into `table` with COPY FROM STDIN. */
export async function copyChunks(client: PoolClient, table: string, columns: readonly string[], chunks: readonly Buffer[]): Promise<void> {
  await copyText(client, table, columns, chunks);
}

/** Streams rows (arrays of values in `columns` order) into `table` with COPY FROM STDIN. */
export async function copyRows(client: PoolClient, table: string, columns: readonly string[], rows: Iterable<readonly unknown[]>): Promise<void> {
  await copyLines(client, table, columns, (function* () {
    for (const row of rows) yield copyLine(row);
  })());
}

/**
 * Fills a session-private table shaped like `likeTable` (emptied at commit) with COPY text lines:
 * the staging area of a set-based statement. Call inside a transaction.
 */
export async function copyIntoTemp(client: PoolClient, temp: string, likeTable: string, columns: readonly string[], lines: Iterable<string>): Promise<void> {
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${ident(temp)} (LIKE ${likeTable}) ON COMMIT DELETE ROWS`);
  await copyLines(client, ident(temp), columns, lines);
}
