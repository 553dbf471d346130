"""Liveness and readiness probes for process managers and load balancers."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive and serving requests."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """The index is loaded (the app is built only after it is): its version, corpus statistics."""
    engine = current_app.config["ENGINE"]
    return jsonify({"status": "ready", "index": engine.version_dir.name, **engine.stats()})
