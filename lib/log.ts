import { redactSecrets } from './redact';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: Level = (process.env.LOG_LEVEL as Level) in ORDER ? (process.env.LOG_LEVEL as Level) : 'info';
let rowValuesAllowed = /^(true|1|yes)$/i.test(process.env.LOG_ROW_VALUES ?? '');

export function setLogLevel(level: Level): void {
  threshold = level;
}

/**
 * LOG_ROW_VALUES: whether log lines may show customer values (an offending value in a PostgreSQL
 * error, say). Off by default. It never affects what goes to Temporal: failures recorded in the
 * workflow history are always scrubbed (see activities/errors.ts).
 */
export function setLogRowValues(allowed: boolean): void {
  rowValuesAllowed = allowed;
}

export function logRowValuesAllowed(): boolean {
  return rowValuesAllowed;
}

/** A customer value as it may appear in a log line: itself with LOG_ROW_VALUES, else only its size. */
export function rowValue(value: unknown): unknown {
  if (rowValuesAllowed || value === null || value === undefined) return value;
  return `[hidden: ${typeof value === 'string' ? `${value.length} chars` : typeof value}; LOG_ROW_VALUES=true shows it]`;
}

const HIDDEN = '[value hidden]';

/**
 * Removes customer values that PostgreSQL quotes in its messages: `invalid input syntax for type
 * integer: "12a"`, `value "99999" is out of range`, `Key (customer_code)=(42) already exists`,
 * `Failing row contains (…)`. Identifiers (constraint, column, type names) stay.
 */
export function scrubRowValues(message: string): string {
  return (
    message
      // PostgreSQL does not escape quotes inside the value: hide up to the line's last quote (over-
      // hiding an identifier is fine, showing part of a value is not).
      .replace(/(:\s*)"[^\n]*"/g, `$1"${HIDDEN}"`)
      .replace(/\bvalue "[^\n]*"(?= is | for |$)/g, `value "${HIDDEN}"`)
      .replace(/(\bKey \((?:[^()]|\([^()]*\))*\)=)\((?:.|\n)*?\)(?= (?:already exists|is not present|conflicts))/g, `$1(${HIDDEN})`)
      .replace(/(Failing row contains )\((?:.|\n)*\)/g, `$1(${HIDDEN})`)
  );
}

/** An error as log fields: name, message (secrets redacted; values scrubbed unless allowed), type, code. */
export function errorFields(err: unknown): Record<string, unknown> {
  const e = err as { name?: string; message?: string; type?: string; code?: string; cause?: unknown } | null;
  const raw = typeof e?.message === 'string' ? e.message : String(err);
  const message = redactSecrets(rowValuesAllowed ? raw : scrubRowValues(raw));
  const fields: Record<string, unknown> = { name: e?.name ?? typeof err, message };
  if (typeof e?.type === 'string') fields.type = e.type;
  if (typeof e?.code === 'string') fields.code = e.code;
  if (e?.cause instanceof Error) fields.cause = errorFields(e.cause);
  return fields;
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return errorFields(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/**
 * Structured JSON lines on stderr, one per call: time, level, msg and the given fields. Fields are
 * ids and counts (runId, batchNo, rows…); a customer value only ever goes through `rowValue()`.
 * Errors are serialised by `errorFields`, and every line passes through secret redaction.
 */
export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (ORDER[level] < ORDER[threshold]) return;
  let line: string;
  try {
    line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }, replacer);
  } catch {
    line = JSON.stringify({ time: new Date().toISOString(), level, msg, fields: '[unserialisable]' });
  }
  process.stderr.write(redactSecrets(line) + '\n');
}
