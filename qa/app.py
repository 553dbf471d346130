"""The Flask application factory: the JSON API, the health checks and the web page."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request

from qa import errors, openapi
from qa.engine import Engine
from qa.ratelimit import RateLimiter
from qa.views import BLUEPRINTS

MAX_BODY_BYTES = 64 * 1024
REPOSITORY = Path(__file__).resolve().parent.parent

# Everything comes from this origin; without 'unsafe-inline', injected markup cannot run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

# A client's own request id is kept only when it is short and plain, so it cannot forge log lines.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def settings_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The configuration that QA_* environment variables give, with defaults for the rest."""
    return {
        "CORPUS_DIR": environ.get("QA_CORPUS") or None,
        "INDEX_DIR": environ.get("QA_INDEX") or None,
        "WEB_DIR": environ.get("QA_WEB") or str(REPOSITORY / "web"),
        "RATE_LIMIT": environ.get("QA_RATE_LIMIT", "60/minute"),
    }


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Builds the application, opening the engine once unless config key ENGINE holds one."""
    app = Flask(__name__, static_folder=None)
    # No redirect from // to /: every answer is the resource or a JSON error, never an HTML page.
    app.url_map.merge_slashes = False
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, **settings_from_env())
    if test_config is not None:
        app.config.update(test_config)
    if app.config.get("ENGINE") is None:
        app.config["ENGINE"] = Engine.open(app.config["CORPUS_DIR"], app.config["INDEX_DIR"])
    app.extensions["qa.ratelimit"] = RateLimiter.from_setting(app.config["RATE_LIMIT"])
    # The engine never changes once open, so the ids and the description are computed once.
    document_ids = frozenset(doc["id"] for doc in app.config["ENGINE"].documents())
    app.extensions["qa.document_ids"] = document_ids
    app.extensions["qa.openapi"] = openapi.spec(document_ids)

    app.before_request(_assign_request_id)
    app.after_request(_add_response_headers)
    errors.register(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app


def _assign_request_id() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _add_response_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    response.headers["X-Request-ID"] = g.request_id
    return response
