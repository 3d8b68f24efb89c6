import { isNetworkError, plainMessage } from '../db/errors';
import { log, scrubRowValues } from './log';
import { redactSecrets } from './redact';

/** Errors a person can act on are one line; anything else also shows its stack (never a password). */
const KNOWN = new Set([
  'RefusedError',
  'ConfigError',
  'MappingConfigError',
  'PreflightError',
  'UsageError',
  'TransportError',
  'ServiceError',
  'WorkflowNotFoundError',
]);

export class UsageError extends Error {
  override name = 'UsageError';
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
