-- pgpress:no-transaction
-- articles_search_tokens_idx (0106) is read by no search since 0161 (one-lexeme pages come from
-- pgpress_article_search_terms) and cost every insert and every update of title or body its tokens
-- (pgpress_search_tokens, 0.6-1.5 ms of CPU an article, docs/schema.md "Ranked search"). The
-- function stays (tests and docs explain the tiers with it); only its index goes.
DROP INDEX CONCURRENTLY IF EXISTS articles_search_tokens_idx;
