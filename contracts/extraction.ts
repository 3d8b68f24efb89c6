/** What an extraction read and recorded (migration_run.extraction). */

/** A snapshot an extraction read the source in: the source's clock when it was taken, and from which key on. */
export interface ExtractSnapshot {
  at: string;
  afterKey: number | null;
}

/** What the extraction recorded with its run (migration_run.extraction). */
export interface ExtractionRecord {
  /** One, unless a retried extraction had to take a new snapshot after the connection holding the first died. */
  snapshots: ExtractSnapshot[];
  rowsRead: number;
  rowsStaged: number;
  /** Incremental runs only: rows read whose staged copy had a newer updated_at (left as staged). */
  keptNewer: number;
  /** The source's own count of the rows to read, in the same snapshot (null with several snapshots). */
  sourceCount: number | null;
}

export interface ExtractResult {
  rowsRead: number;
  rowsStaged: number;
  /** Rows whose source updated_at was older than the staged copy (left as staged; incremental runs only). */
  rowsSkippedOlder: number;
  /** The source's clock at the (first) snapshot: the watermark the run records when it completes. */
  snapshotAt: string | null;
  snapshots: number;
  chunks: number;
  resumedFromCursor: number | null;
}
