import { redactSecrets } from './redact';

/** Errors a person can act on are one line; anything else also shows its stack (never a password). */
const KNOWN = new Set(['RefusedError', 'ConfigError', 'MappingConfigError', 'PreflightError', 'UsageError', 'TransportError', 'ServiceError', 'WorkflowNotFoundError']);

export class UsageError extends Error {
  override name = 'UsageError';
}

export function describeError(err: unknown): string {
  const e = err as Error;
  const message = redactSecrets(e?.message ?? String(err));
  return KNOWN.has(e?.name) ? `${e.name === 'UsageError' ? 'usage' : 'error'}: ${message}` : `error: ${message}`;
}

export function fatal(err: unknown): never {
  process.stderr.write(describeError(err) + '\n');
  const name = (err as Error)?.name;
  if (!KNOWN.has(name) && process.env.LOG_LEVEL === 'debug') process.stderr.write(redactSecrets(String((err as Error)?.stack)) + '\n');
  process.exit(name === 'UsageError' ? 2 : 1);
}
