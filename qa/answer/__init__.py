"""From a question to a cited answer: the query (query), the re-ranker (rank), answer spans
(spans), conversation moves (conversation) and the engine that does it all (engine)."""
