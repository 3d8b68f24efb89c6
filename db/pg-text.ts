import { copyEscape } from './copy';

/**
 * COPY text lines that PostgreSQL can print back, byte for byte, from the rows it stores: each
 * value is written in the form the server itself prints for its column type (jsonb in jsonb_out's
 * key order and spacing, uuids in lower case, booleans as t/f), so the same SQL expression over the
 * stored row reproduces the line that was sent. A digest of the lines a load sent can then be
 * checked against the rows the destination holds without shipping them anywhere. Where a value is
 * not in its canonical form (a float in exponent form, a timestamp with another offset), the lines
 * differ and the caller compares row by row: a gap here costs time, never a wrong verdict.
 */

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

/** jsonb keeps object keys ordered by length in bytes, then bytewise (jsonb_util.c lengthCompareJsonbString). */
function jsonbKeyOrder(a: string, b: string): number {
  const la = byteLength(a);
  const lb = byteLength(b);
  if (la !== lb) return la - lb;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

interface KeyOrder {
  keys: string[];
  /** In jsonb order: each key with its printed `"key": ` prefix. */
  sorted: { key: string; prefix: string }[];
}

// Objects from one mapping share a handful of key sets: each set's jsonb order is worked out once.
// The cache is looked up by a cheap signature and confirmed key by key.
const keyOrders = new Map<string, KeyOrder[]>();
function keyOrder(object: Record<string, unknown>): KeyOrder['sorted'] {
  const keys = Object.keys(object);
  const signature = `${keys.length}:${keys[0] ?? ''}:${keys[keys.length - 1] ?? ''}`;
  const candidates = keyOrders.get(signature) ?? [];
  for (const c of candidates) {
    if (c.keys.length === keys.length && c.keys.every((k, i) => k === keys[i])) return c.sorted;
  }
  const sorted = [...keys].sort(jsonbKeyOrder).map((key) => ({ key, prefix: `${JSON.stringify(key)}: ` }));
  if (candidates.length < 16) keyOrders.set(signature, [...candidates, { keys, sorted }]);
  return sorted;
}

/**
 * The text jsonb_out prints for a JSON value: keys in jsonb order, ", " and ": " separators, strings
 * escaped as JSON.stringify escapes them (the same set as PostgreSQL's escape_json), undefined
 * object members dropped as JSON.stringify drops them. It is valid JSON input as well.
 */
export function jsonbText(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : jsonbText(v))).join(', ')}]`;
  const object = value as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const { key, prefix } of keyOrder(object)) {
    const v = object[key];
    if (v === undefined) continue;
    out += (first ? prefix : ', ' + prefix) + (v === null ? 'null' : typeof v === 'string' ? JSON.stringify(v) : jsonbText(v));
    first = false;
  }
  return out + '}';
}

/** A column's COPY field: the value's canonical text, COPY-escaped (\N for NULL). */
type FieldText = (value: unknown) => string;

const NULL_FIELD = '\\N';

function fieldText(dataType: string): FieldText {
  switch (dataType) {
    case 'uuid':
      return (v) => (v === null || v === undefined ? NULL_FIELD : copyEscape(String(v).toLowerCase()));
    case 'boolean':
      return (v) => (v === null || v === undefined ? NULL_FIELD : v === true || v === 't' || v === 'true' ? 't' : v === false || v === 'f' || v === 'false' ? 'f' : copyEscape(String(v)));
    case 'jsonb':
      return (v) => (v === null || v === undefined ? NULL_FIELD : copyEscape(typeof v === 'string' ? v : jsonbText(v)));
    default:
      // json keeps its input text, so JSON.stringify's output is what it prints back.
      return (v) => (v === null || v === undefined ? NULL_FIELD : copyEscape(typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v)));
  }
}

/** Types whose text never holds a character COPY escapes. */
const PLAIN = new Set(['uuid', 'timestamp with time zone', 'timestamp without time zone', 'date', 'smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision']);

/** The SQL expression printing a stored column as fieldText writes it. */
function fieldSql(column: string, dataType: string): string {
  const escaped = (text: string) => `replace(replace(replace(replace(${text}, E'\\\\', E'\\\\\\\\'), E'\\n', E'\\\\n'), E'\\r', E'\\\\r'), E'\\t', E'\\\\t')`;
  const value = dataType === 'boolean' ? `CASE WHEN ${column} THEN 't' WHEN NOT ${column} THEN 'f' END` : PLAIN.has(dataType) ? `${column}::text` : escaped(`${column}::text`);
  return `coalesce(${value}, E'\\\\N')`;
}

export interface LinePrinter {
  /** The COPY line (ending in a newline) of a row, from values in the order of the columns given. */
  line(values: readonly unknown[]): string;
  /** The SQL expression that prints the same line from a stored row. */
  sql: string;
}

export function linePrinter(columns: readonly { name: string; dataType: string }[], quote: (name: string) => string): LinePrinter {
  const fields = columns.map((c) => fieldText(c.dataType));
  return {
    line(values) {
      let out = '';
      for (let i = 0; i < fields.length; i++) out += (i ? '\t' : '') + fields[i](values[i]);
      return out + '\n';
    },
    sql: columns.map((c) => fieldSql(quote(c.name), c.dataType)).join(` || E'\\t' || `) + ` || E'\\n'`,
  };
}
