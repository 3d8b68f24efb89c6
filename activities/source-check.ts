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

type Deps = Pick<ActivityDeps, 'pools' | 'mapping'>;

/** What the source checks read with: the pools, the mapping and the source columns, key first. */
interface SourceCheckDeps extends Deps {
  columns: string[];
}

/** What comparing the run's chunks with staging found, chunk by chunk in order. */
interface ChunkComparison {
  problems: string[];
  notStaged: number[];
  changed: number[];
  extra: number[];
  /** The rows the chunks say were read. */
  read: number;
  /** The last chunk's upto key (null: open-ended), undefined when there was no chunk. */
  previous: number | null | undefined;
}

/** The staged rows of one chunk's key range that carry this run's id, hashed as the extraction hashed the source's. */
async function stagedHashes({ pools, mapping, columns }: SourceCheckDeps, runId: number, chunk: ChunkRecord): Promise<RowHashes> {
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

/** Each chunk's recorded keys and row hashes against the rows staged in its range, and whether the chunks tile the key range. */
async function compareChunks(deps: SourceCheckDeps, runId: number, chunks: readonly ChunkRecord[]): Promise<ChunkComparison> {
  const found: ChunkComparison = { problems: [], notStaged: [], changed: [], extra: [], read: 0, previous: undefined };
  for (const chunk of chunks) {
    const expectedAfter = found.previous === undefined ? null : found.previous;
    if (chunk.after_key !== expectedAfter)
      found.problems.push(`chunk ${chunk.chunk_no} starts after key ${chunk.after_key ?? '(start)'}, not after ${expectedAfter ?? '(start)'}`);
    found.previous = chunk.upto_key;
    found.read += chunk.row_count;
    const d = compareRowHashes(await readChunkRowHashes(deps.pools.staging, runId, chunk.chunk_no), await stagedHashes(deps, runId, chunk));
    found.notStaged.push(...d.notStaged);
    found.changed.push(...d.changed);
    found.extra.push(...d.extra);
    Context.current().heartbeat({ sourceChunksChecked: chunk.chunk_no });
  }
  return found;
}

/** The problems of a chunk comparison: the key range's coverage, the source's count, and the rows that differ. */
function sourceProblems(found: ChunkComparison, chunkCount: number, mode: string, extraction: ExtractionRecord | null): string[] {
  const { problems, notStaged, changed, extra, read, previous } = found;
  if (!chunkCount) problems.push('the extraction recorded no chunk');
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
  return problems;
}

/**
 * Every row the run read from the source (its chunks' keys and row hashes) is staged by this run
 * with the same values, and nothing else is staged under its id; the chunks tile the whole key
 * range; the source's own count in the snapshot equals the rows read. For a full run this makes
 * the run's staged rows the source's snapshot, key by key.
 */
async function stagedEqualsSource(deps: SourceCheckDeps, runId: number, mode: string, extraction: ExtractionRecord | null): Promise<ReconciliationCheck> {
  const chunks = await readExtractChunks(deps.pools.staging, runId);
  const found = await compareChunks(deps, runId, chunks);
  const problems = sourceProblems(found, chunks.length, mode, extraction);
  const { notStaged, changed, extra, read } = found;
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
async function futureDated({ pools, mapping }: Deps, runId: number): Promise<{ count: number; examples: number[] }> {
  return readFutureDated(pools.staging, mapping.source, runId, EXAMPLES);
}

/**
 * Every batch was loaded under the fingerprint the run started with, and the reconciliation itself
 * (which maps again) runs under it too: two workers with different mapping files, constants or a
 * branch_map changed mid-run would otherwise give one run two contracts.
 */
async function oneFingerprint({ pools, mapping }: Deps, runId: number, runFingerprint: Fingerprint | null, branches: BranchMap): Promise<ReconciliationCheck> {
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

/** The reconciliation's checks against the source (contract 5.1), beside its checks against staging. */
export function createSourceChecks({ pools, mapping }: Deps) {
  const deps: SourceCheckDeps = { pools, mapping, columns: keyFirstColumns(mapping.source) };
  return {
    stagedEqualsSource: (runId: number, mode: string, extraction: ExtractionRecord | null) => stagedEqualsSource(deps, runId, mode, extraction),
    futureDated: (runId: number) => futureDated(deps, runId),
    oneFingerprint: (runId: number, runFingerprint: Fingerprint | null, branches: BranchMap) => oneFingerprint(deps, runId, runFingerprint, branches),
  };
}
