"""The Flask application factory: the JSON API, the health checks and the web page."""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Mapping
from functools import partial
from typing import Any

from flask import Flask, Response, g, request

from qa.answer.engine import Engine
from qa.index.build import IndexNotSaved
from qa.index.store import IndexBusy
from qa.ingest.corpus import CorpusError
from qa.service import cluster, errors, openapi, reload
from qa.service.json_provider import OrjsonProvider
from qa.service.ratelimit import RateLimiter
from qa.service.views import BLUEPRINTS
from qa.settings import MAX_BODY_BYTES, Settings

# Everything comes from this origin; without 'unsafe-inline', injected markup cannot run.
# pdf.js (the source viewer's PDF pages) needs nothing more: its worker is a module script from
# 'self' (worker-src falls back to script-src), it is told not to use eval (isEvalSupported:
# false), it loads fonts through the FontFace API from bytes (no blob: or data: URL), draws on a
# canvas and positions its text layer through CSSOM (never a style attribute). No
# 'wasm-unsafe-eval' either: for JPEG 2000 and JBIG2 images it uses its plain JavaScript decoders.
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
    """The app's configuration from the QA_* variables (see qa.settings)."""
    given = Settings.from_env(environ)
    return {
        "CORPUS_DIR": given.corpus and str(given.corpus),
        "INDEX_DIR": given.index and str(given.index),
        "WEB_DIR": str(given.web),
        "PDFJS_DIR": str(given.pdfjs),
        "RATE_LIMIT": given.rate_limit,
        "RELOAD": given.reload,
        "API_KEY": given.api_key,
        "READ_KEY": given.read_key,
        "MAX_UPLOAD": given.max_upload,
        "CLUSTER": given.cluster,
        "REPLICAS": given.replicas,
    }


class StartupError(RuntimeError):
    """The service cannot start: gunicorn prints a RuntimeError's message as one line and exits."""


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Builds the application, opening the engine once unless config key ENGINE holds one.

    Raises StartupError, with one line saying why, when the settings or the index are unusable.
    """
    app = Flask(__name__, static_folder=None)
    app.json = OrjsonProvider(app)
    # No redirect from // to /: every answer is the resource or a JSON error, never an HTML page.
    app.url_map.merge_slashes = False
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, **settings_from_env())
    if test_config is not None:
        app.config.update(test_config)
    try:
        app.extensions["qa.service.ratelimit"] = RateLimiter.from_setting(app.config["RATE_LIMIT"])
        interval = reload.interval_from_setting(app.config["RELOAD"])
    except ValueError as exc:
        raise StartupError(str(exc)) from exc
    engine = app.config.get("ENGINE")
    if engine is None:
        engine = _open_engine(app.config)
    install(app, engine)
    app.logger.setLevel(logging.INFO)  # so that the log says when a new index is picked up

    app.before_request(_assign_request_id)
    if interval is not None:
        reloader = reload.Reloader(engine, interval, partial(install, app), app.logger)
        app.extensions["qa.service.reload"] = reloader
        app.before_request(reloader)
    app.after_request(_add_response_headers)
    errors.register(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app


def _open_engine(config: Mapping[str, Any]) -> Engine:
    serve = cluster.shard_server(config["CLUSTER"], config["REPLICAS"])
    try:
        return Engine.open(config["CORPUS_DIR"], config["INDEX_DIR"], serve=serve)
    except (CorpusError, IndexNotSaved, IndexBusy) as exc:
        raise StartupError(str(exc)) from exc


def install(app: Flask, engine: Engine) -> None:
    """Answers from `engine` from now on, with the document ids and API description it has."""
    engine.warm()
    document_ids = frozenset(doc.id for doc in engine.documents())
    app.extensions["qa.document_ids"] = document_ids
    app.extensions["qa.service.openapi"] = openapi.spec(
        document_ids, engine.collections(), read_key=bool(app.config.get("READ_KEY"))
    )
    previous = app.config.get("ENGINE")
    app.config["ENGINE"] = engine
    if previous is not None and previous is not engine:
        previous.close()
    reloader = app.extensions.get("qa.service.reload")
    if reloader is not None:  # a version this process made itself is not loaded again
        reloader.seen = engine.version_dir


def _assign_request_id() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _add_response_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        # A view may set a stricter policy of its own (a document's file is sandboxed).
        response.headers.setdefault(name, value)
    response.headers["X-Request-ID"] = g.request_id
    return response
