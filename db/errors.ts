import { scrubRowValues } from '../lib/log';
import { redactSecrets } from '../lib/redact';

/**
 * What an error from PostgreSQL or the network is, for every caller that must tell (the activities'
 * retry classification, the CLI's messages, the pre-flight checks): no CLI or Temporal code here.
 */

/** Network errors of Node and pg, whose bare message ("connect ECONNREFUSED 127.0.0.1:1") needs a hint. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** An error PostgreSQL sent (its message may quote a customer value). */
export function isPgError(err: unknown): boolean {
  const e = err as { severity?: unknown; code?: unknown } | null;
  return typeof e?.severity === 'string' && typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code);
}

/** The SQLSTATE of an error PostgreSQL sent ('23505'), or null for any other error. */
export function sqlstateOf(err: unknown): string | null {
  return isPgError(err) ? (err as { code: string }).code : null;
}

/** Whether the error is a network failure (refused, reset, unknown host, timed out). */
export function isNetworkError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

/** One line, secrets redacted, customer values (quoted by PostgreSQL) scrubbed. */
export function plainMessage(err: unknown): string {
  const e = err as { message?: string } | null;
  const message = typeof e?.message === 'string' && e.message ? e.message : String(err);
  const oneLine = message.replace(/\s*\n\s*/g, ' | ').trim();
  return redactSecrets(isPgError(err) ? scrubRowValues(oneLine) : oneLine);
}
