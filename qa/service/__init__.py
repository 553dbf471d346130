"""The HTTP service: create_app (app), its blueprints (views), the one JSON error shape (errors),
request checks (validation), the rate limit (ratelimit), OpenAPI (openapi), JSON encoding
(json_provider) and workers picking up new index versions (reload)."""
