-- Articles: drafts, published and archived pieces, with a weighted full-text vector.
CREATE TABLE IF NOT EXISTS articles (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  author_id    bigint      NOT NULL REFERENCES users (id),
  title        text        NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  slug         text        NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 200),
  body         text        NOT NULL DEFAULT '' CHECK (length(body) <= 1000000),
  status       text        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
  tags         text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 20),
  metadata     jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  version      integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
  search       tsvector GENERATED ALWAYS AS (
                 setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
                 setweight(to_tsvector('english', coalesce(body, '')), 'B')
               ) STORED,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  CONSTRAINT articles_published_has_date CHECK (status <> 'published' OR published_at IS NOT NULL)
);

CREATE UNIQUE INDEX IF NOT EXISTS articles_slug_key ON articles (slug);
CREATE INDEX IF NOT EXISTS articles_author_idx ON articles (author_id, created_at DESC);
