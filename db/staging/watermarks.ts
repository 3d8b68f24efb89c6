/** Statements on migration_watermark, one row per pipeline: the source's clock at the last completed run's snapshot. */
import type { Pool, PoolClient } from 'pg';

type Db = Pool | PoolClient;

/** The pipeline's watermark and where an incremental run reads from (the watermark minus the look-back); null before the first. */
export async function watermarkAndSince(db: Db, pipeline: string, lookbackSeconds: number): Promise<{ watermark: string; since: string } | null> {
  const row = (
    await db.query(`SELECT watermark, watermark - make_interval(secs => $2) AS since FROM migration_watermark WHERE pipeline = $1`, [pipeline, lookbackSeconds])
  ).rows[0];
  return row ? { watermark: row.watermark, since: row.since } : null;
}

/** Sets the pipeline's watermark to a run's snapshot (even if lower than before); answers it as stored. */
export async function setWatermark(db: Db, w: { pipeline: string; sourceTable: string; watermark: string; runId: number }): Promise<string> {
  const result = await db.query(
    `INSERT INTO migration_watermark (pipeline, source_table, watermark, run_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (pipeline) DO UPDATE SET watermark = EXCLUDED.watermark, run_id = EXCLUDED.run_id, updated_at = now()
     RETURNING watermark`,
    [w.pipeline, w.sourceTable, w.watermark, w.runId],
  );
  return result.rows[0].watermark;
}

export interface WatermarkInfo {
  watermark: string;
  runId: number;
  ageSeconds: number;
  /** Where an incremental run would start reading: the watermark minus the look-back. */
  since: string;
}

/** The pipeline's watermark, the run that set it and its age by the staging clock, as text (preflight); null before the first completed run. */
export async function readWatermark(db: Db, pipeline: string, lookbackSeconds: number): Promise<WatermarkInfo | null> {
  const row = (
    await db.query(
      `SELECT watermark::text AS watermark, run_id, extract(epoch FROM now() - watermark)::float8 AS age,
            (watermark - make_interval(secs => $2))::text AS since
       FROM migration_watermark WHERE pipeline = $1`,
      [pipeline, lookbackSeconds],
    )
  ).rows[0];
  return row ? { watermark: row.watermark, runId: Number(row.run_id), ageSeconds: row.age, since: row.since } : null;
}
