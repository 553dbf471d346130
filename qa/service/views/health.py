"""Liveness and readiness probes for process managers and load balancers."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from qa.service.responses import Health, Ready, ShardPlace, SkippedFile

bp = Blueprint("health", __name__)
HEALTHY = Health("ok")


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive and serving requests."""
    return jsonify(HEALTHY)


@bp.get("/readyz")
def readyz() -> Response:
    """The index is loaded (the app is built only after it is): its version, corpus statistics
    and its shards, each asked where it runs (503 when one cannot answer)."""
    engine = current_app.config["ENGINE"]
    stats = engine.stats()
    skipped = [SkippedFile(**s) for s in stats.pop("skipped")]
    shards = [ShardPlace(name, len(nodes), nodes) for name, nodes in engine.shard_places()]
    return jsonify(Ready("ready", engine.version_dir.name, **stats, skipped=skipped, shards=shards))
