-- pgpress_search_top (0112) plans its statements once per session (generic plans), not on each
-- call. Its parameters (the lexeme, n, the filters) changed the custom plans' estimates, so under
-- plan_cache_mode = auto PL/pgSQL kept re-planning every statement of every search: database CPU
-- per call 1.65–1.71 ms under auto, 1.02–1.21 ms with generic plans (16 common and rare words,
-- 30 interleaved rounds, seed scale 100). The plans are the same index probes either way; the
-- filtered paths were measured too (docs/schema.md, "Ranked search").
ALTER FUNCTION pgpress_search_top(tsquery, integer, jsonb, text) SET plan_cache_mode = force_generic_plan;
