"""The corpus as clients browse it: the document list, one document's passages, suggestions."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from werkzeug.exceptions import NotFound

from qa.ratelimit import limit_client

bp = Blueprint("documents", __name__, url_prefix="/api")
bp.before_request(limit_client)


@bp.get("/documents")
def list_documents() -> Response:
    return jsonify({"documents": current_app.config["ENGINE"].documents()})


@bp.get("/documents/<doc_id>")
def get_document(doc_id: str) -> Response:
    document = current_app.config["ENGINE"].document(doc_id)
    if document is None:
        raise NotFound(f"unknown document: {doc_id}")
    return jsonify(document)


@bp.get("/suggestions")
def suggestions() -> Response:
    return jsonify({"suggestions": current_app.config["ENGINE"].suggestions()})
