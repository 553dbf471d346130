"""The searchable index: counting terms at build time (counting), exact BM25Okapi scores and
retrieval (bm25), the build of a folder on every CPU (build), and saved versions (store)."""
