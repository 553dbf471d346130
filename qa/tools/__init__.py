"""Tools for measuring and tuning, not used when serving: qa eval (evaluate), fitting the
re-ranker (fit), qa bench (bench, bench_wsgi, synthetic), real gunicorn and load on it for the
soak, the fuzzer and the tests (serving, load, fuzzing) and process helpers (processes)."""
