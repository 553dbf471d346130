"""The OpenAPI description of this API, built for the corpus being served."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

bp = Blueprint("openapi", __name__, url_prefix="/api")


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(current_app.extensions["qa.service.openapi"])
