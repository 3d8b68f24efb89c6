import { log, scrubRowValues } from './log';
import { redactSecrets } from './redact';

/** Errors a person can act on are one line; anything else also shows its stack (never a password). */
const KNOWN = new Set(['RefusedError', 'ConfigError', 'MappingConfigError', 'PreflightError', 'UsageError', 'TransportError', 'ServiceError', 'WorkflowNotFoundError']);

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Network errors of Node and pg, whose bare message ("connect ECONNREFUSED 127.0.0.1:1") needs a hint. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** An error PostgreSQL sent (its message may quote a customer value). */
export function isPgError(err: unknown): boolean {
  const e = err as { severity?: unknown; code?: unknown } | null;
  return typeof e?.severity === 'string' && typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code);
}

/** One line, secrets redacted, customer values (quoted by PostgreSQL) scrubbed. */
export function plainMessage(err: unknown): string {
  const e = err as { message?: string } | null;
  const message = typeof e?.message === 'string' && e.message ? e.message : String(err);
  const oneLine = message.replace(/\s*\n\s*/g, ' | ').trim();
  return redactSecrets(isPgError(err) ? scrubRowValues(oneLine) : oneLine);
}

/** Whether the error is a network failure (refused, reset, unknown host, timed out). */
export function isNetworkError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

/** What an operator sees of an error: `plainMessage`, with a hint for a bare network failure. */
export function errorMessage(err: unknown): string {
  const message = plainMessage(err);
  return isNetworkError(err) ? `cannot connect (${message}): check the *_DATABASE_URL and TEMPORAL_ADDRESS settings and that the server is up` : message;
}

export function describeError(err: unknown): string {
  const name = (err as Error)?.name;
  return `${name === 'UsageError' ? 'usage' : 'error'}: ${errorMessage(err)}`;
}

export function fatal(err: unknown): never {
  process.stderr.write(describeError(err) + '\n');
  const name = (err as Error)?.name;
  if (!KNOWN.has(name) && process.env.LOG_LEVEL === 'debug') process.stderr.write(redactSecrets(String((err as Error)?.stack)) + '\n');
  process.exit(name === 'UsageError' ? 2 : 1);
}

/**
 * The worker's way out when it cannot start: one structured JSON line (the worker's log format)
 * naming the problem, then exit 1. The stack follows, also as JSON, only with LOG_LEVEL=debug and
 * only for errors that are not already a clear message.
 */
export function fatalJson(what: string, err: unknown): never {
  const name = (err as Error)?.name ?? 'Error';
  const fields: Record<string, unknown> = { kind: name };
  if (!KNOWN.has(name) && process.env.LOG_LEVEL === 'debug') fields.stack = redactSecrets(scrubRowValues(String((err as Error)?.stack)));
  log('error', `${what}: ${errorMessage(err)}`, fields);
  process.exit(1);
}
