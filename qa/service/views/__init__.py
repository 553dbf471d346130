"""The blueprints, one per resource: ask, documents, health checks, OpenAPI and the web page."""

from qa.service.views import ask, documents, health, openapi, pages

BLUEPRINTS = (ask.bp, documents.bp, health.bp, openapi.bp, pages.bp)
