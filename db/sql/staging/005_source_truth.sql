-- Contract section 5.1, "the source is the truth": what each run read from the source, in which
-- snapshot, and what it was mapped with, so the reconciliation can prove staging equals the source.

-- The source's own clock when the run's extraction snapshot was taken (the earliest one, if a
-- retried extraction had to take another): the watermark a completed run records.
ALTER TABLE migration_run ADD COLUMN snapshot_at timestamptz;
-- How the extraction went: snapshots taken, rows read / staged / kept (a newer staged row), the
-- source's own count in the snapshot.
ALTER TABLE migration_run ADD COLUMN extraction jsonb;
-- What the run was mapped with: SHA-256 of the mapping document, the configuration constants and a
-- digest of branch_map (activities/fingerprint.ts). The run's at its start, each batch's at its load.
ALTER TABLE migration_run ADD COLUMN fingerprint jsonb;
ALTER TABLE migration_batch ADD COLUMN fingerprint jsonb;

-- One row per extraction chunk: the key range it covered (after < key <= upto; NULL = unbounded),
-- the snapshot it read, and every key it read with a hash of the source row's COPY text. The
-- reconciliation hashes the staged rows the same way and compares key by key.
CREATE TABLE migration_extract_chunk (
  run_id       bigint NOT NULL REFERENCES migration_run (run_id),
  chunk_no     integer NOT NULL,
  after_key    integer,
  upto_key     integer,
  snapshot_at  timestamptz NOT NULL,
  row_count    integer NOT NULL,
  staged       integer NOT NULL,
  keys         integer[] NOT NULL,
  row_hashes   bytea NOT NULL,        -- 16 bytes per key, in the order of keys
  PRIMARY KEY (run_id, chunk_no)
);
