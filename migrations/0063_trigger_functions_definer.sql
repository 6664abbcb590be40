-- Trigger functions that write side tables (source change counters 0018, the cache change log
-- 0044, the article tag registry 0005, the partition move log 0030) run as their owner, so a
-- writer needs no grant on those tables; search_path pinned so no caller can slip objects in.
DO $$
DECLARE
  f regprocedure;
BEGIN
  FOREACH f IN ARRAY ARRAY[
    'pgpress_bump_source_changes()', 'pgpress_register_article_tags()', 'pgpress_cache_log(text[])',
    'pgpress_cache_articles_changed()', 'pgpress_cache_users_changed()', 'pgpress_cache_comments_changed()',
    'pgpress_cache_tags_changed()', 'pgpress_cache_matview_refreshed()', 'pgpress_cache_truncated()',
    'pgpress_partition_log_change()'
  ]::regprocedure[] LOOP
    EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp', f);
  END LOOP;
END
$$;
