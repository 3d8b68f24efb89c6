import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Fingerprint } from '../../contracts';
import type { BatchDigest } from '../../db/pg-text';
import type { BatchRecord } from '../../db/staging/batches';
import type { Report } from '../commands/report';

/** What a sign-off manifest covers: the run's batch digests, counts, fingerprint and reconciliation result. */
export interface ManifestInput {
  runId: string;
  runNumber: number;
  mode: string;
  status: string;
  counts: Record<string, number>;
  fingerprint: Fingerprint | null;
  snapshotAt: string | null;
  watermarkBefore: string | null;
  watermarkAfter: string | null;
  reconciliation: { ok: boolean; checkedAt: string; checks: { name: string; ok: boolean; detail: string }[] } | null;
  /** Every batch with the digest its load recorded (migration_batch.expected), in batch order. */
  batches: { batchNo: number; lo: number; hi: number; status: string; expected: BatchDigest | null }[];
}

export interface Manifest {
  version: 1;
  /** SHA-256 of the canonical JSON of the ManifestInput, hex. */
  sha256: string;
  /** HMAC-SHA256 of the same bytes with SIGNOFF_HMAC_KEY, hex; null when no key is configured. */
  hmac: string | null;
  batches: number;
}

/** The fields of a report (client/commands/report.ts readReport) and its batches that the manifest covers. */
export function manifestInput(
  report: Pick<Report, 'runId' | 'runNumber' | 'mode' | 'status' | 'counts' | 'fingerprint' | 'watermark' | 'reconciliation'>,
  batches: readonly Pick<BatchRecord, 'batchNo' | 'lo' | 'hi' | 'status' | 'expected'>[],
): ManifestInput {
  const r = report.reconciliation;
  return {
    runId: report.runId,
    runNumber: report.runNumber,
    mode: report.mode,
    status: report.status,
    counts: report.counts,
    fingerprint: report.fingerprint,
    snapshotAt: report.watermark.snapshotAt,
    watermarkBefore: report.watermark.before,
    watermarkAfter: report.watermark.after,
    reconciliation: r ? { ok: r.ok, checkedAt: r.checkedAt, checks: r.checks.map((c) => ({ name: c.name, ok: c.ok, detail: c.detail })) } : null,
    batches: batches.map((b) => ({ batchNo: b.batchNo, lo: b.lo, hi: b.hi, status: b.status, expected: b.expected })),
  };
}

/** JSON with object keys sorted at every level (jsonb does not keep key order): one text per value. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function computeManifest(input: ManifestInput, hmacKey?: string): Manifest {
  const bytes = Buffer.from(canonicalJson(input), 'utf8');
  return {
    version: 1,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    hmac: hmacKey ? createHmac('sha256', hmacKey).update(bytes).digest('hex') : null,
    batches: input.batches.length,
  };
}

const sameHex = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));

/** What differs between the manifest a page claims and the one recomputed (empty: they agree). */
export function manifestDifferences(claimed: Pick<Manifest, 'sha256' | 'hmac'>, recomputed: Manifest, hmacKeySet: boolean): string[] {
  const out: string[] = [];
  if (!/^[0-9a-f]{64}$/.test(claimed.sha256 ?? '') || !sameHex(claimed.sha256, recomputed.sha256))
    out.push(`manifest SHA-256: the page says ${claimed.sha256 || '(none)'}, the database gives ${recomputed.sha256}`);
  if (claimed.hmac && !hmacKeySet) out.push('the page carries an HMAC but SIGNOFF_HMAC_KEY is not set here: its signature cannot be checked');
  else if (hmacKeySet && !claimed.hmac) out.push('SIGNOFF_HMAC_KEY is set but the page carries no HMAC: it was not signed with the key');
  else if (claimed.hmac && recomputed.hmac && (!/^[0-9a-f]{64}$/.test(claimed.hmac) || !sameHex(claimed.hmac, recomputed.hmac)))
    out.push("manifest HMAC: the page's does not match the one computed with SIGNOFF_HMAC_KEY");
  return out;
}
