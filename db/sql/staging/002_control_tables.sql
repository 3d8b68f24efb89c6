-- The migration's own bookkeeping: runs, batches, rejects/warnings, watermark, pipeline lock.

CREATE TABLE migration_run (
  run_id            bigserial PRIMARY KEY,
  pipeline          text NOT NULL,
  workflow_id       text NOT NULL,
  temporal_run_id   text NOT NULL UNIQUE,   -- the first execution's run id (stable across continue-as-new)
  mode              text NOT NULL CHECK (mode IN ('full', 'incremental')),
  status            text NOT NULL DEFAULT 'RUNNING',
  phase             text NOT NULL DEFAULT 'starting',
  run_date          date NOT NULL,          -- "today" for the mapping's date rules, UTC
  started_at        timestamptz NOT NULL DEFAULT now(),
  finished_at       timestamptz,
  watermark_before  timestamptz,
  watermark_after   timestamptz,
  extract_since     timestamptz,
  settings          jsonb,
  note              text,
  rows_extracted    bigint,
  rows_staged       bigint,
  batch_count       integer,
  counts            jsonb,
  reconciliation    jsonb,
  error             text
);
CREATE INDEX migration_run_workflow ON migration_run (workflow_id, run_id DESC);

CREATE TABLE migration_batch (
  run_id       bigint NOT NULL REFERENCES migration_run (run_id),
  batch_no     integer NOT NULL,
  lo           integer NOT NULL,
  hi           integer NOT NULL,
  status       text NOT NULL DEFAULT 'PENDING',   -- PENDING | DONE | FAILED
  attempts     integer NOT NULL DEFAULT 0,
  staged       integer,
  loaded       integer,
  rejected     integer,
  warned       integer,
  by_type      jsonb,
  error        text,
  started_at   timestamptz,
  finished_at  timestamptz,
  PRIMARY KEY (run_id, batch_no)
);

CREATE TABLE migration_issue (
  run_id        bigint NOT NULL,
  batch_no      integer NOT NULL,
  customer_code integer NOT NULL,
  severity      text NOT NULL CHECK (severity IN ('REJECT', 'WARNING')),
  reason        text NOT NULL,
  field         text,
  value         text,
  source_row    jsonb NOT NULL
);
CREATE INDEX migration_issue_batch ON migration_issue (run_id, batch_no);
CREATE INDEX migration_issue_reason ON migration_issue (run_id, severity, reason);

-- Per pipeline: the source updated_at up to which rows have been loaded and reconciled.
CREATE TABLE migration_watermark (
  pipeline     text PRIMARY KEY,
  source_table text NOT NULL,
  watermark    timestamptz NOT NULL,
  run_id       bigint NOT NULL REFERENCES migration_run (run_id),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- At most one active run per pipeline (full, incremental and scheduled runs exclude one another).
CREATE TABLE migration_lock (
  pipeline        text PRIMARY KEY,
  workflow_id     text NOT NULL,
  temporal_run_id text NOT NULL,
  run_id          bigint,
  acquired_at     timestamptz NOT NULL DEFAULT now()
);
