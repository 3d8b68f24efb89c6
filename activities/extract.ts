import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { escapeLiteral, type PoolClient } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { ident, qualified } from '../db/copy';
import { log } from '../lib/log';
import type { ActivityDeps } from './deps';
import { FailureType } from '../contracts';
import { keyFirstColumns, RowHasher } from './source-digest';
import type { ExtractionRecord, ExtractResult, ExtractSnapshot } from '../contracts';

/** Heartbeat details (progress for the UI); a retry resumes from what staging recorded. */
interface ExtractProgress {
  cursor: number | null;
  rowsRead: number;
  rowsStaged: number;
  chunks: number;
}

/** What a run's earlier attempts committed: the chunks recorded in staging. */
interface Recorded extends ExtractProgress {
  /** The last chunk covered the rest of the key range: nothing is left to read. */
  complete: boolean;
  snapshots: ExtractSnapshot[];
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
  const { schema, table, key, watermark } = mapping.source;
  const columns = keyFirstColumns(mapping.source);
  const columnList = columns.map(ident).join(', ');
  const updates = columns.filter((c) => c !== key).map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`).join(', ');
  const sourceTable = qualified(schema, table);

  async function recorded(runId: number): Promise<Recorded> {
    const [totals, snapshots] = await Promise.all([
      pools.staging.query(
        `SELECT count(*)::int AS chunks, COALESCE(sum(row_count), 0)::int AS read, COALESCE(sum(staged), 0)::int AS staged,
                (array_agg(upto_key ORDER BY chunk_no DESC))[1] AS cursor, COALESCE(bool_or(upto_key IS NULL), false) AS complete
         FROM migration_extract_chunk WHERE run_id = $1`,
        [runId],
      ),
      pools.staging.query<ExtractSnapshot>(
        `SELECT snapshot_at AS at, (array_agg(after_key ORDER BY chunk_no))[1] AS "afterKey"
         FROM migration_extract_chunk WHERE run_id = $1 GROUP BY snapshot_at ORDER BY min(chunk_no)`,
        [runId],
      ),
    ]);
    const t = totals.rows[0];
    return { chunks: t.chunks, rowsRead: t.read, rowsStaged: t.staged, cursor: t.cursor, complete: t.complete, snapshots: snapshots.rows };
  }

  async function extract({ runId, since, chunkSize }: { runId: number; since: string | null; chunkSize: number }): Promise<ExtractResult> {
    const ctx = Context.current();
    const run = (await pools.staging.query(`UPDATE migration_run SET phase = 'extracting' WHERE run_id = $1 AND status = 'RUNNING' RETURNING mode`, [runId])).rows[0];
    if (!run) throw ApplicationFailure.nonRetryable(`run ${runId} is no longer running: its extraction stops`, FailureType.runNotActive);
    const mirror = run.mode === 'full';
    metrics?.runMode(runId, run.mode);
    const state = await recorded(runId);
    const resumedFromCursor = state.chunks > 0 ? state.cursor : null;
    if (state.chunks > 0) log('info', 'extraction resumes from its heartbeat cursor', { runId, cursor: state.cursor, rowsRead: state.rowsRead, complete: state.complete });

    let sourceCount: number | null = null;
    if (!state.complete) {
      const source = await pools.source.connect();
      const staging = await pools.staging.connect();
      let failed: Error | undefined;
      try {
        await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        // The first statement takes the snapshot: its start time is the source's clock at that moment.
        const snapshotAt: string = (await source.query('SELECT statement_timestamp() AS at')).rows[0].at;
        state.snapshots.push({ at: snapshotAt, afterKey: state.cursor });
        await staging.query(`CREATE TEMP TABLE IF NOT EXISTS extract_chunk AS SELECT ${columnList} FROM stg_customer WITH NO DATA`);
        for (;;) {
          const n = await extractChunk(source, staging, { runId, since, chunkSize, mirror, snapshotAt, state });
          metrics?.extracted(run.mode, n); // the chunk is committed: counted once, also when a retry resumes after it
          ctx.heartbeat({ cursor: state.cursor, rowsRead: state.rowsRead, rowsStaged: state.rowsStaged, chunks: state.chunks } satisfies ExtractProgress);
          if (n < chunkSize) break;
        }
        // The source's own count in the same snapshot, an independent total for the reconciliation.
        // With several snapshots (a resumed extraction) no single count describes what was read.
        sourceCount = state.snapshots.length === 1
          ? (await source.query(`SELECT count(*)::int AS n FROM ${sourceTable} ${since === null ? '' : `WHERE ${ident(watermark)} >= ${escapeLiteral(since)}::timestamptz`}`)).rows[0].n
          : null;
        await source.query('COMMIT');
      } catch (err) {
        failed = err as Error;
        await staging.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        // A source connection left inside its snapshot transaction is closed, not pooled.
        source.release(failed);
        staging.release();
      }
    }
    await pools.staging.query(`UPDATE migration_run SET extraction = $2 WHERE run_id = $1`, [
      runId,
      { snapshots: state.snapshots, rowsRead: state.rowsRead, rowsStaged: state.rowsStaged, keptNewer: state.rowsRead - state.rowsStaged, sourceCount } satisfies ExtractionRecord,
    ]);
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

  /** Reads, stages and records one chunk; answers the rows it read. */
  async function extractChunk(
    source: PoolClient,
    staging: PoolClient,
    { runId, since, chunkSize, mirror, snapshotAt, state }: { runId: number; since: string | null; chunkSize: number; mirror: boolean; snapshotAt: string; state: Recorded },
  ): Promise<number> {
    const after = state.cursor;
    const conditions = [
      after === null ? null : `${ident(key)} > ${Number(after)}`,
      since === null ? null : `${ident(watermark)} >= ${escapeLiteral(since)}::timestamptz`,
    ].filter(Boolean);
    const select = `SELECT ${columnList} FROM ${sourceTable}
      ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''} ORDER BY ${ident(key)} LIMIT ${Number(chunkSize)}`;

    await staging.query('BEGIN');
    // Nothing staged beyond the cursor (the first load of a cutover, new codes at the end of the key
    // range): the chunk goes straight into stg_customer, no temp table and no upsert.
    const above = after === null ? 'true' : `${ident(key)} > ${Number(after)}`;
    const direct: boolean = (await staging.query(`SELECT NOT EXISTS (SELECT 1 FROM stg_customer WHERE ${above}) AS direct`)).rows[0].direct;
    const hasher = new RowHasher(direct);
    if (direct) {
      await pipeline(
        source.query(copyTo(`COPY (SELECT *, ${Number(runId)}::bigint FROM (${select}) chunk) TO STDOUT`)),
        hasher,
        staging.query(copyFrom(`COPY stg_customer (${columnList}, extracted_run_id) FROM STDIN`)),
      );
    } else {
      await staging.query('TRUNCATE extract_chunk');
      await pipeline(source.query(copyTo(`COPY (${select}) TO STDOUT`)), hasher, staging.query(copyFrom(`COPY extract_chunk (${columnList}) FROM STDIN`)));
    }
    const read = hasher.result();
    const n = read.keys.length;
    // Only a run that is still RUNNING may stage rows. An extraction left behind by a cancelled or
    // terminated run must not re-label rows that a later run has staged: the row lock taken here
    // orders this chunk with finishRun / the lock take-over, so either the chunk commits first (and
    // the later run re-stages the rows) or it sees the run ended and stops.
    const alive = await staging.query(
      `UPDATE migration_run SET rows_extracted = $2, snapshot_at = COALESCE(snapshot_at, $3) WHERE run_id = $1 AND status = 'RUNNING' AND finished_at IS NULL`,
      [runId, state.rowsRead + n, snapshotAt],
    );
    if (!alive.rowCount) {
      await staging.query('ROLLBACK');
      const run = (await staging.query(`SELECT status FROM migration_run WHERE run_id = $1`, [runId])).rows[0];
      throw ApplicationFailure.nonRetryable(`run ${runId} is ${run?.status ?? 'unknown'}, no longer running: its extraction stops`, FailureType.runNotActive);
    }
    const upsert = direct || n === 0
      ? null
      : await staging.query(
          `INSERT INTO stg_customer (${columnList}, extracted_run_id)
           SELECT ${columnList}, $1 FROM extract_chunk
           ON CONFLICT (${ident(key)}) DO UPDATE SET ${updates}, extracted_run_id = EXCLUDED.extracted_run_id
           ${mirror ? '' : `WHERE stg_customer.${ident(watermark)} <= EXCLUDED.${ident(watermark)}`}`,
          [runId],
        );
    const staged = upsert ? upsert.rowCount ?? 0 : n;
    // A short chunk read everything after the cursor: its range is open-ended.
    const upto = n < chunkSize ? null : read.keys[n - 1];
    await staging.query(
      `INSERT INTO migration_extract_chunk (run_id, chunk_no, after_key, upto_key, snapshot_at, row_count, staged, keys, row_hashes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [runId, state.chunks + 1, after, upto, snapshotAt, n, staged, read.keys, read.hashes],
    );
    await staging.query('COMMIT');
    state.cursor = upto;
    state.rowsRead += n;
    state.rowsStaged += staged;
    state.chunks += 1;
    state.complete = upto === null;
    return n;
  }

  return { extract };
}
