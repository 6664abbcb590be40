-- pgpress_search_top's statements are many small index probes whose estimates add up past
-- jit_above_cost: JIT compiling them cost 10-20 ms a call for work of about 1 ms. Off for the function.
ALTER FUNCTION pgpress_search_top(tsquery, integer, jsonb, text) SET jit = off;
