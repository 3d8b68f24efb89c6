import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { escapeLiteral } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { ident, qualified } from '../db/copy';
import { log } from '../lib/log';
import type { ActivityDeps } from './deps';
import type { ExtractResult } from './types';

/** Heartbeat details: where a retried extraction resumes. */
interface ExtractCursor {
  cursor: number | null;
  rowsRead: number;
  rowsStaged: number;
  rowsSkippedOlder: number;
  maxUpdatedAt: string | null;
  chunks: number;
}

/**
 * Copies the run's source rows into stg_customer, chunk by chunk in key order. Each chunk is one
 * COPY out of the source piped into a COPY into a temporary staging table, then one upsert that
 * replaces a staged row only with a newer-or-equal updated_at (or, where nothing is staged beyond
 * the cursor yet, one COPY straight into stg_customer). The last key of each committed chunk
 * goes into the heartbeat, so a retry resumes after it instead of starting over.
 */
export function createExtractActivities({ pools, mapping }: ActivityDeps) {
  const { schema, table, key, watermark, columns } = mapping.source;
  const columnList = columns.map(ident).join(', ');
  const updates = columns.filter((c) => c !== key).map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`).join(', ');

  async function extract({ runId, since, chunkSize }: { runId: number; since: string | null; chunkSize: number }): Promise<ExtractResult> {
    const ctx = Context.current();
    const resumed = ctx.info.heartbeatDetails as ExtractCursor | undefined;
    // A copy: `resumed` must keep the cursor this attempt started from (reported as resumedFromCursor).
    const state: ExtractCursor = resumed ? { ...resumed } : { cursor: null, rowsRead: 0, rowsStaged: 0, rowsSkippedOlder: 0, maxUpdatedAt: null, chunks: 0 };
    if (resumed) log('info', 'extraction resumes from its heartbeat cursor', { runId, cursor: resumed.cursor, rowsRead: resumed.rowsRead });
    await pools.staging.query(`UPDATE migration_run SET phase = 'extracting' WHERE run_id = $1 AND status = 'RUNNING'`, [runId]);

    const source = await pools.source.connect();
    const staging = await pools.staging.connect();
    try {
      await staging.query(
        `CREATE TEMP TABLE IF NOT EXISTS extract_chunk AS SELECT ${columnList} FROM stg_customer WITH NO DATA`,
      );
      for (;;) {
        const conditions = [
          state.cursor === null ? null : `${ident(key)} > ${Number(state.cursor)}`,
          since === null ? null : `${ident(watermark)} >= ${escapeLiteral(since)}::timestamptz`,
        ].filter(Boolean);
        const select = `SELECT ${columnList} FROM ${qualified(schema, table)}
          ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''} ORDER BY ${ident(key)} LIMIT ${Number(chunkSize)}`;

        await staging.query('BEGIN');
        const above = state.cursor === null ? 'true' : `${ident(key)} > ${Number(state.cursor)}`;
        // Nothing staged beyond the cursor (the first load of a cutover, new codes at the end of the
        // key range): the chunk goes straight into stg_customer, no temp table and no upsert. The
        // pipeline lock keeps other runs out; a zombie of an ended run is stopped below, before COMMIT.
        const direct: boolean = (await staging.query(`SELECT NOT EXISTS (SELECT 1 FROM stg_customer WHERE ${above}) AS direct`)).rows[0].direct;
        if (direct) {
          await pipeline(
            source.query(copyTo(`COPY (SELECT *, ${Number(runId)}::bigint FROM (${select}) chunk) TO STDOUT`)),
            staging.query(copyFrom(`COPY stg_customer (${columnList}, extracted_run_id) FROM STDIN`)),
          );
        } else {
          await staging.query('TRUNCATE extract_chunk');
          await pipeline(source.query(copyTo(`COPY (${select}) TO STDOUT`)), staging.query(copyFrom(`COPY extract_chunk (${columnList}) FROM STDIN`)));
        }
        const chunk = (await staging.query(
          `SELECT count(*)::int AS n, max(${ident(key)}) AS last_key,
                  GREATEST(max(${ident(watermark)}), $1::timestamptz) AS max_updated
           FROM ${direct ? `stg_customer WHERE extracted_run_id = ${Number(runId)} AND ${above}` : 'extract_chunk'}`,
          [state.maxUpdatedAt],
        )).rows[0];
        if (chunk.n === 0) {
          await staging.query('COMMIT');
          break;
        }
        // Only a run that is still RUNNING may stage rows. An extraction left behind by a cancelled or
        // terminated run (Temporal cannot stop an activity that does not heartbeat) must not re-label
        // rows that a later run has staged: the row lock taken here orders this chunk with finishRun /
        // the lock take-over, so either the chunk commits first (and the later run re-stages the rows)
        // or it sees the run ended and stops.
        const alive = await staging.query(
          `UPDATE migration_run SET rows_extracted = $2 WHERE run_id = $1 AND status = 'RUNNING' AND finished_at IS NULL`,
          [runId, state.rowsRead + chunk.n],
        );
        if (!alive.rowCount) {
          await staging.query('ROLLBACK');
          const run = (await staging.query(`SELECT status FROM migration_run WHERE run_id = $1`, [runId])).rows[0];
          throw ApplicationFailure.nonRetryable(`run ${runId} is ${run?.status ?? 'unknown'}, no longer running: its extraction stops`, 'RunNotActive');
        }
        const upsert = direct
          ? null
          : await staging.query(
              `INSERT INTO stg_customer (${columnList}, extracted_run_id)
               SELECT ${columnList}, $1 FROM extract_chunk
               ON CONFLICT (${ident(key)}) DO UPDATE SET ${updates}, extracted_run_id = EXCLUDED.extracted_run_id
               WHERE stg_customer.${ident(watermark)} <= EXCLUDED.${ident(watermark)}`,
              [runId],
            );
        await staging.query('COMMIT');

        const staged = upsert ? upsert.rowCount ?? 0 : chunk.n;
        state.cursor = chunk.last_key;
        state.rowsRead += chunk.n;
        state.rowsStaged += staged;
        state.rowsSkippedOlder += chunk.n - staged;
        state.chunks += 1;
        state.maxUpdatedAt = chunk.max_updated;
        ctx.heartbeat(state);
        if (chunk.n < chunkSize) break;
      }
    } catch (err) {
      await staging.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      source.release();
      staging.release();
    }
    log('info', 'extraction done', { runId, rowsRead: state.rowsRead, rowsStaged: state.rowsStaged, chunks: state.chunks });
    return {
      rowsRead: state.rowsRead,
      rowsStaged: state.rowsStaged,
      rowsSkippedOlder: state.rowsSkippedOlder,
      maxUpdatedAt: state.maxUpdatedAt,
      chunks: state.chunks,
      resumedFromCursor: resumed?.cursor ?? null,
    };
  }

  return { extract };
}
