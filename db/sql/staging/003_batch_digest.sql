-- What a batch wrote, summed up when it loads: row counts and digests of both destination tables'
-- rows (activities/value-digest.ts). The reconciliation checks the destination against it.
ALTER TABLE migration_batch ADD COLUMN expected jsonb;
