"""The searchable index: terms counted at build time (counting), segments' postings and exact
BM25Okapi scores of the live passages (bm25), files read on every CPU (build), immutable
segments (segments), versions of segments and deletions (store), keeping an index in step with
its folder and the library's add / remove / commit (writer), and the files' checks (disk)."""
