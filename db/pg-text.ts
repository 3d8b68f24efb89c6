/**
 * PostgreSQL's own text output of values, reproduced in JavaScript, so a set of rows can be compared
 * with what the database holds by one digest instead of shipping the rows across: the reconciliation
 * builds the text of the rows it expects here and lets PostgreSQL build the text of the rows it holds
 * (`ARRAY[col::text, …]::text`). Where the two could differ for a value this module does not cover
 * (a float written in exponent form, a non-UTC timestamp), the digests differ and the caller falls
 * back to a row-by-row comparison: a gap here costs time, never a wrong verdict.
 */

/** How one destination column's value is printed, chosen by its PostgreSQL type. */
export type ColumnText = (value: unknown) => string | null;

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
 * object members dropped as JSON.stringify drops them.
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

/** The printer for a column of the given PostgreSQL type (information_schema data_type). */
export function columnText(dataType: string): ColumnText {
  switch (dataType) {
    case 'uuid':
      return (v) => (v === null || v === undefined ? null : String(v).toLowerCase());
    case 'boolean':
      // boolean::text says true/false (unlike boolout's t/f).
      return (v) => (v === null || v === undefined ? null : v === true || v === 't' || v === 'true' ? 'true' : v === false || v === 'f' || v === 'false' ? 'false' : String(v));
    case 'jsonb':
      return (v) => (v === null || v === undefined ? null : typeof v === 'string' ? v : jsonbText(v));
    case 'json':
      // json keeps its input text: what the load wrote is JSON.stringify's output.
      return (v) => (v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v));
    default:
      return (v) => (v === null || v === undefined ? null : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
}

// array_out quotes an element that is empty, spells NULL, or holds a brace, comma, quote, backslash
// or one of scanner_isspace's six characters; inside quotes it backslash-escapes quotes and backslashes.
const NEEDS_QUOTES = /[{},"\\ \t\n\r\v\f]/;
const QUOTE_ESCAPES = /["\\]/g;

/** One element of a text[] as array_out prints it. */
export function arrayElementText(text: string | null): string {
  if (text === null) return 'NULL';
  if (text === '' || NEEDS_QUOTES.test(text) || (text.length === 4 && text.toUpperCase() === 'NULL')) {
    return `"${text.replace(QUOTE_ESCAPES, '\\$&')}"`;
  }
  return text;
}

export interface RowPrinter {
  /** The row's text, from values in the order of the columns given to rowPrinter. */
  text(values: readonly unknown[]): string;
  /** The SQL expression that prints the same text from a table row. */
  sql: string;
}

/**
 * Prints rows of the given columns as one unambiguous line: the plain columns as a text[] literal,
 * then each json/jsonb column's own text after a tab (JSON text never holds a raw tab or newline,
 * so it needs no quoting; SQL NULL prints as \N, which no JSON text can be).
 */
export function rowPrinter(columns: readonly { name: string; dataType: string }[], quote: (name: string) => string): RowPrinter {
  const isJson = (c: { dataType: string }) => c.dataType === 'json' || c.dataType === 'jsonb';
  const at = (wanted: boolean) => columns.flatMap((c, i) => (isJson(c) === wanted ? [{ i, print: columnText(c.dataType), name: c.name }] : []));
  const plain = at(false);
  const json = at(true);
  return {
    text(values) {
      let out = '{';
      for (let k = 0; k < plain.length; k++) out += (k ? ',' : '') + arrayElementText(plain[k].print(values[plain[k].i]));
      out += '}';
      for (const { i, print } of json) out += '\t' + (print(values[i]) ?? '\\N');
      return out;
    },
    sql: `ARRAY[${plain.map((c) => `${quote(c.name)}::text`).join(', ')}]::text` +
      json.map((c) => ` || E'\\t' || coalesce(${quote(c.name)}::text, E'\\\\N')`).join(''),
  };
}
