-- The bulk path of a cutover's first load (issue 14): a full run into empty destination tables may
-- load them without their primary, unique and foreign keys and rebuild those once at the end. The
-- definitions are saved here before anything is dropped, so that they can be rebuilt whatever
-- happens to the run (activities/bulk-load.ts; `migrate repair-constraints <runId>` by hand).
CREATE TABLE migration_bulk_load (
  run_id       bigint PRIMARY KEY REFERENCES migration_run (run_id),
  schema_name  text NOT NULL,
  keys         jsonb NOT NULL,     -- db/destination/keys.ts TableKey[], as the catalog printed them
  state        text NOT NULL CHECK (state IN ('DROPPING', 'DROPPED', 'RESTORED', 'FAILED')),
  saved_at     timestamptz NOT NULL DEFAULT now(),
  dropped_at   timestamptz,
  restored_at  timestamptz,
  error        text
);

-- Which load path a run took and why: {"path": "bulk" | "upsert", "reason": "..."}.
ALTER TABLE migration_run ADD COLUMN load_path jsonb;
