-- pgstattuple, for the reindex job's bloat measurement (pgstatindex). Creating it needs a
-- superuser (or a role the extension is trusted for) and the contrib files; without either the
-- job estimates bloat from the catalog instead, so a refusal here is not an error.
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS pgstattuple;
EXCEPTION
  WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
    RAISE NOTICE 'pgstattuple not created (%): the reindex job will estimate index bloat', SQLERRM;
END
$$;
