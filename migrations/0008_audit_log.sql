-- The audit log: one row per write to an audited table, with the acting user taken from
-- pgpress.actor_id (set by Cluster.tx). Range-partitioned by month like article_events, so
-- retention drops whole months instead of deleting rows.
CREATE TABLE IF NOT EXISTS audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  actor_id    bigint,
  table_name  text        NOT NULL,
  operation   text        NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
  row_id      bigint      NOT NULL,
  old_row     jsonb,
  new_row     jsonb,
  txid        bigint      NOT NULL DEFAULT txid_current(),
  CONSTRAINT audit_log_rows_match_operation CHECK (
    (operation = 'INSERT' AND old_row IS NULL AND new_row IS NOT NULL) OR
    (operation = 'UPDATE' AND old_row IS NOT NULL AND new_row IS NOT NULL) OR
    (operation = 'DELETE' AND old_row IS NOT NULL AND new_row IS NULL)),
  CONSTRAINT audit_log_pkey PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE TABLE IF NOT EXISTS audit_log_default PARTITION OF audit_log DEFAULT;

CREATE INDEX IF NOT EXISTS audit_log_row_idx ON audit_log (table_name, row_id, occurred_at);
CREATE INDEX IF NOT EXISTS audit_log_actor_idx ON audit_log (actor_id, occurred_at) WHERE actor_id IS NOT NULL;
