-- Every tag an article carries exists in `tags` (a row trigger: arrays cannot hold foreign keys).
CREATE OR REPLACE FUNCTION pgpress_register_article_tags() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(NEW.tags) > 0 THEN
    INSERT INTO tags (name) SELECT DISTINCT t FROM unnest(NEW.tags) AS t ON CONFLICT (name) DO NOTHING;
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER articles_register_tags
  BEFORE INSERT OR UPDATE OF tags ON articles
  FOR EACH ROW EXECUTE FUNCTION pgpress_register_article_tags();
