import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PoolClient } from 'pg';
import { copyOutChunk, copyOutChunkForRun, countRowsSince } from '../db/source/customers';
import { inSourceSnapshot } from '../db/source/snapshot';
import { markExtracting, readRunStatus, recordExtractedIfRunning, saveExtraction } from '../db/staging/runs';
import {
  copyIntoExtractChunk,
  copyIntoStaged,
  createExtractChunkTable,
  emptyExtractChunk,
  nothingStagedAfter,
  stageExtractChunk,
} from '../db/staging/customers';
import { readExtractChunkTotals, recordExtractChunk, type ExtractChunkTotals } from '../db/staging/extract-chunks';
import { inTransaction } from '../db/transaction';
import { log } from '../lib/log';
import type { ActivityDeps } from './deps';
import { FailureType, type ExtractionRecord, type ExtractResult } from '../contracts';
import { keyFirstColumns, RowHasher } from './source-digest';

/** Heartbeat details (progress for the UI); a retry resumes from what staging recorded. */
interface ExtractProgress {
  cursor: number | null;
  rowsRead: number;
  rowsStaged: number;
  chunks: number;
}

/** What a run's earlier attempts committed: the chunks recorded in staging (complete: nothing is left to read). */
type Recorded = ExtractChunkTotals;

/** A chunk's staging transaction found its run ended: rolled back, then reported. */
class RunEnded extends Error {}

/** What the extraction works with: the pools, the mapping, the metrics and the source columns, key first. */
interface ExtractDeps extends Pick<ActivityDeps, 'pools' | 'mapping' | 'metrics'> {
  columns: string[];
}

/** One attempt's extraction of a run: what every chunk of it reads and stages with. */
interface ExtractJob {
  runId: number;
  since: string | null;
  chunkSize: number;
  /** The run's mode (metrics); a full run mirrors the source. */
  mode: string;
  mirror: boolean;
}

/** One chunk of an extraction, read in the snapshot taken at snapshotAt after what `state` records. */
interface ChunkJob {
  runId: number;
  since: string | null;
  chunkSize: number;
  mirror: boolean;
  snapshotAt: string;
  state: Recorded;
}

/** What one chunk's staging transaction committed. */
interface StagedChunk {
  n: number;
  staged: number;
  upto: number | null;
}

async function extract(deps: ExtractDeps, { runId, since, chunkSize }: { runId: number; since: string | null; chunkSize: number }): Promise<ExtractResult> {
  const { pools, metrics } = deps;
  const ctx = Context.current();
  const run = await markExtracting(pools.staging, runId);
  if (!run) throw ApplicationFailure.nonRetryable(`run ${runId} is no longer running: its extraction stops`, FailureType.runNotActive);
  const mirror = run.mode === 'full';
  metrics?.runMode(runId, run.mode);
  const state = await readExtractChunkTotals(pools.staging, runId);
  const resumedFromCursor = state.chunks > 0 ? state.cursor : null;
  if (state.chunks > 0)
    log('info', 'extraction resumes from its heartbeat cursor', { runId, cursor: state.cursor, rowsRead: state.rowsRead, complete: state.complete });

  let sourceCount: number | null = null;
  if (!state.complete) sourceCount = await extractInSnapshot(deps, ctx, { runId, since, chunkSize, mode: run.mode, mirror }, state);
  await saveExtraction(pools.staging, runId, {
    snapshots: state.snapshots,
    rowsRead: state.rowsRead,
    rowsStaged: state.rowsStaged,
    keptNewer: state.rowsRead - state.rowsStaged,
    sourceCount,
  } satisfies ExtractionRecord);
  log('info', 'extraction done', { runId, rowsRead: state.rowsRead, rowsStaged: state.rowsStaged, chunks: state.chunks, snapshots: state.snapshots.length });
  return {
    rowsRead: state.rowsRead,
    rowsStaged: state.rowsStaged,
    rowsSkippedOlder: state.rowsRead - state.rowsStaged,
    snapshotAt: state.snapshots[0]?.at ?? null,
    snapshots: state.snapshots.length,
    chunks: state.chunks,
    resumedFromCursor,
  };
}

/**
 * Reads the rest of the run's source rows after `state`'s cursor, chunk by chunk inside one source
 * snapshot, heartbeating after each committed chunk. Answers the source's own count in that
 * snapshot, or null when the run has read in more than one snapshot.
 */
async function extractInSnapshot(deps: ExtractDeps, ctx: Context, job: ExtractJob, state: Recorded): Promise<number | null> {
  const { pools, mapping, metrics, columns } = deps;
  const { runId, since, chunkSize, mode, mirror } = job;
  const source = await pools.source.connect();
  const staging = await pools.staging.connect();
  let failed: Error | undefined;
  try {
    return await inSourceSnapshot(source, async (snapshotAt) => {
      state.snapshots.push({ at: snapshotAt, afterKey: state.cursor });
      await createExtractChunkTable(staging, columns);
      for (;;) {
        const n = await extractChunk(deps, source, staging, { runId, since, chunkSize, mirror, snapshotAt, state });
        metrics?.extracted(mode, n); // the chunk is committed: counted once, also when a retry resumes after it
        ctx.heartbeat({ cursor: state.cursor, rowsRead: state.rowsRead, rowsStaged: state.rowsStaged, chunks: state.chunks } satisfies ExtractProgress);
        if (n < chunkSize) break;
      }
      // The source's own count in the same snapshot, an independent total for the reconciliation.
      // With several snapshots (a resumed extraction) no single count describes what was read.
      return state.snapshots.length === 1 ? countRowsSince(source, mapping, since) : null;
    });
  } catch (err) {
    failed = err as Error;
    throw err;
  } finally {
    // A source connection left inside its snapshot transaction is closed, not pooled.
    source.release(failed);
    staging.release();
  }
}

/** Reads, stages and records one chunk in one staging transaction; answers the rows it read. */
async function extractChunk(deps: ExtractDeps, source: PoolClient, staging: PoolClient, job: ChunkJob): Promise<number> {
  const { runId, state } = job;
  let recorded: StagedChunk;
  try {
    recorded = await inTransaction(staging, () => stageChunk(deps, source, staging, job));
  } catch (err) {
    if (!(err instanceof RunEnded)) throw err;
    const status = await readRunStatus(staging, runId);
    throw ApplicationFailure.nonRetryable(`run ${runId} is ${status ?? 'unknown'}, no longer running: its extraction stops`, FailureType.runNotActive);
  }
  state.cursor = recorded.upto;
  state.rowsRead += recorded.n;
  state.rowsStaged += recorded.staged;
  state.chunks += 1;
  state.complete = recorded.upto === null;
  return recorded.n;
}

/** The body of a chunk's staging transaction: copy the chunk in, hashed, stage it and record it. Throws RunEnded when the run has ended. */
async function stageChunk(
  { mapping, columns }: ExtractDeps,
  source: PoolClient,
  staging: PoolClient,
  { runId, since, chunkSize, mirror, snapshotAt, state }: ChunkJob,
): Promise<StagedChunk> {
  const after = state.cursor;
  const chunk = { columns, after, since, chunkSize };
  // Nothing staged beyond the cursor (the first load of a cutover, new codes at the end of the key
  // range): the chunk goes straight into stg_customer, no temp table and no upsert.
  const direct = await nothingStagedAfter(staging, mapping.source.key, after);
  const hasher = new RowHasher(direct);
  if (direct) {
    await pipeline(copyOutChunkForRun(source, mapping, chunk, runId), hasher, copyIntoStaged(staging, columns));
  } else {
    await emptyExtractChunk(staging);
    await pipeline(copyOutChunk(source, mapping, chunk), hasher, copyIntoExtractChunk(staging, columns));
  }
  const read = hasher.result();
  const n = read.keys.length;
  // Only a run that is still RUNNING may stage rows. An extraction left behind by a cancelled or
  // terminated run must not re-label rows that a later run has staged: the row lock taken here
  // orders this chunk with finishRun / the lock take-over, so either the chunk commits first (and
  // the later run re-stages the rows) or it sees the run ended and stops.
  if (!(await recordExtractedIfRunning(staging, runId, state.rowsRead + n, snapshotAt))) throw new RunEnded();
  const staged = direct || n === 0 ? n : await stageExtractChunk(staging, mapping.source, columns, runId, mirror);
  // A short chunk read everything after the cursor: its range is open-ended.
  const upto = n < chunkSize ? null : read.keys[n - 1];
  await recordExtractChunk(staging, {
    runId,
    chunkNo: state.chunks + 1,
    afterKey: after,
    uptoKey: upto,
    snapshotAt,
    rowCount: n,
    staged,
    keys: read.keys,
    rowHashes: read.hashes,
  });
  return { n, staged, upto };
}

/**
 * Copies the run's source rows into stg_customer, chunk by chunk in key order, all chunks of an
 * attempt inside one REPEATABLE READ transaction on the source: one snapshot, whose time (the
 * source's own clock) becomes the run's watermark (contract 5.1). Each chunk is one COPY out of the
 * source, hashed row by row on its way (activities/source-digest.ts) into staging, and committed
 * there with its record (migration_extract_chunk: the range, the keys and the row hashes).
 *
 * A full run replaces every staged row with the source's; an incremental run only with a newer-or-
 * equal updated_at (contract section 2). Where nothing is staged beyond the cursor, a chunk goes
 * straight into stg_customer. A retried attempt resumes after the last chunk staging recorded; its
 * snapshot is gone with the connection that held it, so it takes a new one and the run keeps the
 * earliest snapshot time as its watermark: every row the first snapshot could not see is then at or
 * after the watermark, and the next incremental run reads it.
 */
export function createExtractActivities({ pools, mapping, metrics }: ActivityDeps) {
  const deps: ExtractDeps = { pools, mapping, metrics, columns: keyFirstColumns(mapping.source) };
  return {
    extract: (input: { runId: number; since: string | null; chunkSize: number }) => extract(deps, input),
  };
}
