import { createHash } from 'node:crypto';
import { copyEscape, EncodedLines } from './copy';

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
  /** In jsonb order: each key with its printed `"key": ` prefix, plain and COPY-escaped. */
  sorted: { key: string; prefix: string; copyPrefix: string }[];
}

// Objects from one mapping share a handful of key sets: each set's jsonb order is worked out once.
// The cache is looked up by key count and first key, and confirmed key by key.
const keyOrders = new Map<string, KeyOrder[]>();
function keyOrder(object: Record<string, unknown>): KeyOrder['sorted'] {
  const keys = Object.keys(object);
  const candidates = keyOrders.get(keys[0]) ?? [];
  for (const c of candidates) {
    if (c.keys.length === keys.length && c.keys.every((k, i) => k === keys[i])) return c.sorted;
  }
  const sorted = [...keys].sort(jsonbKeyOrder).map((key) => {
    const prefix = `${JSON.stringify(key)}: `;
    return { key, prefix, copyPrefix: copyEscape(prefix) };
  });
  if (candidates.length < 16) keyOrders.set(keys[0], [...candidates, { keys, sorted }]);
  return sorted;
}

/** Strings that JSON.stringify would change (quotes, backslashes, control characters, surrogates). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const JSON_SPECIAL = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * Pushes onto `parts` jsonb_out's text of a value, COPY-escaped when `forCopy`. A string with nothing
 * to escape (nearly all of them) goes in as it is between quotes, and its JSON text then holds nothing
 * COPY escapes either: only the other strings go through JSON.stringify and copyEscape. Lines are
 * joined from parts once: a string built by `+=` is a tree V8 must flatten before encoding it, which
 * measured costlier than printing the line (2× the print and encode time of a join).
 */
function printJsonb(value: unknown, forCopy: boolean, parts: string[]): void {
  if (value === null || value === undefined) {
    parts.push('null');
  } else if (typeof value === 'string') {
    if (!JSON_SPECIAL.test(value)) parts.push('"', value, '"');
    else parts.push(forCopy ? copyEscape(JSON.stringify(value)) : JSON.stringify(value));
  } else if (typeof value !== 'object') {
    const text = JSON.stringify(value) ?? 'null';
    parts.push(forCopy ? copyEscape(text) : text);
  } else if (Array.isArray(value)) {
    parts.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i) parts.push(', ');
      printJsonb(value[i], forCopy, parts);
    }
    parts.push(']');
  } else {
    const object = value as Record<string, unknown>;
    let first = true;
    parts.push('{');
    for (const { key, prefix, copyPrefix } of keyOrder(object)) {
      const v = object[key];
      if (v === undefined) continue;
      if (!first) parts.push(', ');
      parts.push(forCopy ? copyPrefix : prefix);
      printJsonb(v, forCopy, parts);
      first = false;
    }
    parts.push('}');
  }
}

/**
 * The text jsonb_out prints for a JSON value: keys in jsonb order, ", " and ": " separators, strings
 * escaped as JSON.stringify escapes them (the same set as PostgreSQL's escape_json), undefined
 * object members dropped as JSON.stringify drops them. It is valid JSON input as well.
 */
export function jsonbText(value: unknown): string {
  const parts: string[] = [];
  printJsonb(value, false, parts);
  return parts.join('');
}

/** Pushes a column's COPY field onto `parts`: the value's canonical text, COPY-escaped (\N for NULL). */
type FieldPrinter = (value: unknown, parts: string[]) => void;

const NULL_FIELD = '\\N';

function fieldPrinter(dataType: string): FieldPrinter {
  const scalar =
    (text: (v: unknown) => string): FieldPrinter =>
    (v, parts) => {
      parts.push(v === null || v === undefined ? NULL_FIELD : text(v));
    };
  switch (dataType) {
    case 'uuid':
      return scalar((v) => copyEscape(String(v).toLowerCase()));
    case 'boolean':
      return scalar((v) => (v === true || v === 't' || v === 'true' ? 't' : v === false || v === 'f' || v === 'false' ? 'f' : copyEscape(String(v))));
    case 'jsonb':
      return (v, parts) => {
        if (v === null || v === undefined) parts.push(NULL_FIELD);
        else if (typeof v === 'string') parts.push(copyEscape(v));
        else printJsonb(v, true, parts);
      };
    default:
      // json keeps its input text, so JSON.stringify's output is what it prints back.
      return scalar((v) => copyEscape(typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v)));
  }
}

/** Types whose text never holds a character COPY escapes. */
const PLAIN = new Set([
  'uuid',
  'timestamp with time zone',
  'timestamp without time zone',
  'date',
  'smallint',
  'integer',
  'bigint',
  'numeric',
  'real',
  'double precision',
]);

/** The SQL expression printing a stored column as fieldPrinter writes it. */
function fieldSql(column: string, dataType: string): string {
  const escaped = (text: string) => `replace(replace(replace(replace(${text}, E'\\\\', E'\\\\\\\\'), E'\\n', E'\\\\n'), E'\\r', E'\\\\r'), E'\\t', E'\\\\t')`;
  const value =
    dataType === 'boolean'
      ? `CASE WHEN ${column} THEN 't' WHEN NOT ${column} THEN 'f' END`
      : PLAIN.has(dataType)
        ? `${column}::text`
        : escaped(`${column}::text`);
  return `coalesce(${value}, E'\\\\N')`;
}

export interface LinePrinter {
  /** The COPY line (ending in a newline) of a row, from values in the order of the columns given. */
  line(values: readonly unknown[]): string;
  /** The SQL expression that prints the same line from a stored row. */
  sql: string;
}

export function linePrinter(columns: readonly { name: string; dataType: string }[], quote: (name: string) => string): LinePrinter {
  const fields = columns.map((c) => fieldPrinter(c.dataType));
  const parts: string[] = []; // reused: line() runs to its end before anything else can call it
  return {
    line(values) {
      parts.length = 0;
      for (let i = 0; i < fields.length; i++) {
        if (i) parts.push('\t');
        fields[i](values[i], parts);
      }
      parts.push('\n');
      return parts.join('');
    },
    sql: columns.map((c) => fieldSql(quote(c.name), c.dataType)).join(` || E'\\t' || `) + ` || E'\\n'`,
  };
}

/** A batch's rows in both destination tables, summed up: row counts and SHA-256 digests. */
export interface BatchDigest {
  customers: number;
  customerDigest: string;
  profiles: number;
  profileDigest: string;
}

/** Mapped rows as COPY text lines in customer-id order, with their digest. */
export interface PrintedRows {
  /** Customer ids (lower case) in line order. */
  ids: string[];
  /** Each table's lines, encoded once: the digest is of their bytes, and a COPY sends the same bytes. */
  customerLines: EncodedLines;
  profileLines: EncodedLines;
  digest: BatchDigest;
}

/** Prints mapped rows one by one as they are mapped; `finish` sorts them into id order and digests them. */
export interface RowPrinter {
  /** A customer row and its profile row (values in the mapping's destination column order). */
  add(customer: readonly unknown[], profile: readonly unknown[]): void;
  finish(): PrintedRows;
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Printers of batches of customer and profile rows (each batch's lines what a load COPYs and what
 * its digest sums up); `customerKeyAt` is where a customer row holds its id.
 */
export function rowPrinters(customer: LinePrinter, profile: LinePrinter, customerKeyAt: number): () => RowPrinter {
  let customerBytes = 1 << 16;
  let profileBytes = 1 << 16;
  return () => {
    const keys: string[] = [];
    // Sized as the largest batch so far: growing a buffer of megabytes again for every batch
    // churned external memory, which V8 answers with full collections.
    const customerLines = new EncodedLines(customerBytes);
    const profileLines = new EncodedLines(profileBytes);
    return {
      add(customerRow, profileRow) {
        keys.push(String(customerRow[customerKeyAt]).toLowerCase());
        customerLines.push(customer.line(customerRow));
        profileLines.push(profile.line(profileRow));
      },
      finish() {
        // Lines in id order: the digest's order, and the order in which the id indexes (customer's
        // key, customer_profile.customerId) take them best (measured: 118 s against 132 s in key order at 1M).
        const order = keys.map((_, i) => i).sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0));
        const sortedCustomers = customerLines.reordered(order);
        const sortedProfiles = profileLines.reordered(order);
        customerBytes = Math.max(customerBytes, customerLines.byteLength);
        profileBytes = Math.max(profileBytes, profileLines.byteLength);
        return {
          ids: order.map((i) => keys[i]),
          customerLines: sortedCustomers,
          profileLines: sortedProfiles,
          digest: {
            customers: sortedCustomers.length,
            customerDigest: sha256(sortedCustomers.all()),
            profiles: sortedProfiles.length,
            profileDigest: sha256(sortedProfiles.all()),
          },
        };
      },
    };
  };
}
