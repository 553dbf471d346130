"""Tools for measuring and tuning, not used when serving: qa eval (evaluate), fitting the
re-ranker (fit), qa bench (bench, bench_wsgi, synthetic) and process helpers (processes)."""
