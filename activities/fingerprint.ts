import type { CompiledMapping } from '../mapping/types';
import type { BranchMap } from './staged';
import type { Fingerprint } from '../contracts';

/** What this worker maps with: its mapping document, its constants, and the branch_map it read. */
export function fingerprintOf(mapping: CompiledMapping, branches: BranchMap): Fingerprint {
  const { documentSha256, constants } = mapping.identity;
  return {
    mappingSha256: documentSha256,
    tenantId: constants.tenantId,
    migrationUserId: constants.migrationUserId,
    migrationUserName: constants.migrationUserName,
    branchMapSha256: branches.sha256,
  };
}

/** One text per fingerprint, field by field in a fixed order (jsonb does not keep key order). */
export function fingerprintKey(f: Fingerprint | null | undefined): string {
  if (!f) return '(none recorded)';
  return [f.mappingSha256, f.tenantId, f.migrationUserId, f.migrationUserName, f.branchMapSha256].join('/');
}

/** The fields in which two fingerprints differ, by name. */
export function fingerprintDifferences(a: Fingerprint | null | undefined, b: Fingerprint | null | undefined): string[] {
  if (!a || !b) return a === b ? [] : ['(none recorded)'];
  return (['mappingSha256', 'tenantId', 'migrationUserId', 'migrationUserName', 'branchMapSha256'] as const).filter((k) => a[k] !== b[k]);
}
