import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { readDoneBatchFingerprints } from '../db/staging/batches';
import { copyOutStagedRange } from '../db/staging/customers';
import { readChunkRowHashes, readExtractChunks, readFutureDated, type ChunkRecord } from '../db/staging/extract-chunks';
import type { ActivityDeps } from './deps';
import { fingerprintDifferences, fingerprintKey, fingerprintOf } from './fingerprint';
import { compareRowHashes, keyFirstColumns, RowHasher, type RowHashes } from './source-digest';
import type { BranchMap } from './staged';
import type { ExtractionRecord, Fingerprint, ReconciliationCheck } from '../contracts';

const EXAMPLES = 20;

/** The reconciliation's checks against the source (contract 5.1), beside its checks against staging. */
export function createSourceChecks({ pools, mapping }: Pick<ActivityDeps, 'pools' | 'mapping'>) {
  const columns = keyFirstColumns(mapping.source);

  /** The staged rows of one chunk's key range that carry this run's id, hashed as the extraction hashed the source's. */
  async function stagedHashes(runId: number, chunk: ChunkRecord): Promise<RowHashes> {
    const client = await pools.staging.connect();
    try {
      const hasher = new RowHasher();
      const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
      await pipeline(copyOutStagedRange(client, mapping.source.key, columns, runId, { afterKey: chunk.after_key, uptoKey: chunk.upto_key }), hasher, sink);
      return hasher.result();
    } finally {
      client.release();
    }
  }

  /**
   * Every row the run read from the source (its chunks' keys and row hashes) is staged by this run
   * with the same values, and nothing else is staged under its id; the chunks tile the whole key
   * range; the source's own count in the snapshot equals the rows read. For a full run this makes
   * the run's staged rows the source's snapshot, key by key.
   */
  async function stagedEqualsSource(runId: number, mode: string, extraction: ExtractionRecord | null): Promise<ReconciliationCheck> {
    const chunks = await readExtractChunks(pools.staging, runId);
    const problems: string[] = [];
    const notStaged: number[] = [];
    const changed: number[] = [];
    const extra: number[] = [];
    let read = 0;
    let previous: number | null | undefined;
    for (const chunk of chunks) {
      const expectedAfter = previous === undefined ? null : previous;
      if (chunk.after_key !== expectedAfter)
        problems.push(`chunk ${chunk.chunk_no} starts after key ${chunk.after_key ?? '(start)'}, not after ${expectedAfter ?? '(start)'}`);
      previous = chunk.upto_key;
      read += chunk.row_count;
      const d = compareRowHashes(await readChunkRowHashes(pools.staging, runId, chunk.chunk_no), await stagedHashes(runId, chunk));
      notStaged.push(...d.notStaged);
      changed.push(...d.changed);
      extra.push(...d.extra);
      Context.current().heartbeat({ sourceChunksChecked: chunk.chunk_no });
    }
    if (!chunks.length) problems.push('the extraction recorded no chunk');
    else if (previous !== null) problems.push(`the chunks end at key ${previous}: the rest of the key range was never read`);
    if (extraction?.sourceCount != null && extraction.sourceCount !== read)
      problems.push(`the source counted ${extraction.sourceCount} row(s) in the snapshot, the extraction read ${read}`);
    if (notStaged.length) {
      problems.push(
        mode === 'full'
          ? `${notStaged.length} source row(s) not staged by this run`
          : `${notStaged.length} source row(s) read but not staged, their staged copy has a newer updated_at (a source restored to an earlier state? a full run mirrors it)`,
      );
    }
    if (changed.length) problems.push(`${changed.length} staged row(s) differ from the source row read`);
    if (extra.length) problems.push(`${extra.length} row(s) staged under this run that it never read from the source`);
    const examples = [...notStaged, ...changed, ...extra].sort((a, b) => a - b).slice(0, EXAMPLES);
    const snapshots = extraction?.snapshots ?? [];
    const when = snapshots.length
      ? `the snapshot taken at ${snapshots[0].at} by the source's clock${snapshots.length > 1 ? ` (and ${snapshots.length - 1} later one(s) after the extraction was resumed)` : ''}`
      : "the run's snapshot";
    return {
      name: 'staged_equals_source_snapshot',
      ok: problems.length === 0,
      detail: problems.length
        ? `${problems.join('; ')}`
        : `all ${read} source row(s) of ${when} are staged by this run with equal values, key by key${extraction?.sourceCount != null ? ` (the source's own count: ${extraction.sourceCount})` : ''}`,
      count: notStaged.length + changed.length + extra.length,
      examples,
    };
  }

  /** This run's rows whose updated_at lies after the snapshot they were read in: loaded as any other, listed. */
  async function futureDated(runId: number): Promise<{ count: number; examples: number[] }> {
    return readFutureDated(pools.staging, mapping.source, runId, EXAMPLES);
  }

  /**
   * Every batch was loaded under the fingerprint the run started with, and the reconciliation itself
   * (which maps again) runs under it too: two workers with different mapping files, constants or a
   * branch_map changed mid-run would otherwise give one run two contracts.
   */
  async function oneFingerprint(runId: number, runFingerprint: Fingerprint | null, branches: BranchMap): Promise<ReconciliationCheck> {
    const rows = await readDoneBatchFingerprints(pools.staging, runId);
    const mine = fingerprintOf(mapping, branches);
    const problems: string[] = [];
    const odd = rows.filter((b) => fingerprintKey(b.fingerprint) !== fingerprintKey(runFingerprint));
    if (odd.length) {
      const fields = new Set(odd.flatMap((b) => fingerprintDifferences(b.fingerprint, runFingerprint)));
      problems.push(
        `${odd.length} batch(es) loaded under another fingerprint than the run's (${[...fields].join(', ')} differ): batch(es) ${odd
          .slice(0, EXAMPLES)
          .map((b) => b.batch_no)
          .join(', ')}`,
      );
    }
    const mineDiffers = fingerprintDifferences(mine, runFingerprint);
    if (mineDiffers.length) problems.push(`this reconciliation maps with another fingerprint than the run's (${mineDiffers.join(', ')} differ)`);
    return {
      name: 'one_mapping_fingerprint',
      ok: problems.length === 0,
      detail: problems.length
        ? problems.join('; ')
        : `every batch loaded, and the reconciliation ran, under the run's fingerprint (mapping ${runFingerprint?.mappingSha256.slice(0, 12)}…, branch_map ${runFingerprint?.branchMapSha256.slice(0, 12)}…)`,
      count: odd.length + (mineDiffers.length ? 1 : 0),
    };
  }

  return { stagedEqualsSource, futureDated, oneFingerprint };
}
