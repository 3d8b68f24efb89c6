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

const SPECIAL = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One value in COPY's text format: \N for null, booleans as t/f, objects as JSON. */
export function copyValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'boolean') return value ? 't' : 'f';
  else if (typeof value === 'number') return String(value);
  else text = JSON.stringify(value);
  return text.replace(SPECIAL, (ch) => ESCAPES[ch]);
}

/** Streams rows (arrays of values in `columns` order) into `table` with COPY FROM STDIN. */
export async function copyRows(client: PoolClient, table: string, columns: readonly string[], rows: Iterable<readonly unknown[]>): Promise<void> {
  const sql = `COPY ${table} (${columns.map(ident).join(', ')}) FROM STDIN`;
  const lines = (function* () {
    let chunk = '';
    for (const row of rows) {
      chunk += row.map(copyValue).join('\t') + '\n';
      if (chunk.length > 256 * 1024) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  })();
  await pipeline(Readable.from(lines), client.query(copyFrom(sql)));
}

/**
 * Fills a session-private table shaped like `likeTable` (emptied at commit) with rows: the staging
 * area of a set-based statement. Call inside a transaction.
 */
export async function copyIntoTemp(
  client: PoolClient,
  temp: string,
  likeTable: string,
  columns: readonly string[],
  rows: Iterable<readonly unknown[]>,
): Promise<void> {
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${ident(temp)} (LIKE ${likeTable}) ON COMMIT DELETE ROWS`);
  await copyRows(client, ident(temp), columns, rows);
}
