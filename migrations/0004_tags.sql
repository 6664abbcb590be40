-- Tags: the vocabulary of labels. Articles keep their labels in articles.tags (text[]) with a GIN
-- index rather than an article_tags join table: tags are read with the article on every request,
-- filtered with `tags @> ARRAY[...]` (one GIN probe, no join), and an article carries at most 20.
-- This table is the registry a tag cloud or autocomplete reads; a trigger (0005) keeps it a
-- superset of every tag in use, so integrity does not depend on the application.
CREATE TABLE IF NOT EXISTS tags (
  name       text        PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 50 AND name !~ '[[:cntrl:]]'),
  created_at timestamptz NOT NULL DEFAULT now()
);
