-- pg_trgm: trigram operators and index classes for typo-tolerant title lookup.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
