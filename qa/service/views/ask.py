"""POST /api/ask answers a question with cited passages; GET /api/ask?q=... does the same."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType

from qa.service import auth, validation
from qa.service.ratelimit import limit_client

bp = Blueprint("ask", __name__, url_prefix="/api")
bp.before_request(limit_client)
bp.before_request(auth.require_read)


@bp.post("/ask")
def ask_post() -> Response:
    return _answer(posted_question())


def posted_question() -> validation.AskRequest:
    """The question of a POST's JSON body, checked; the HTTPException to answer otherwise."""
    if not request.is_json:
        raise UnsupportedMediaType("Content-Type: must be application/json")
    # get_data enforces MAX_CONTENT_LENGTH (413) on a declared Content-Length, but a chunked body
    # is cut at the limit without an error, so one that fills the limit is taken to exceed it.
    body = request.get_data(cache=False)
    if request.content_length is None and len(body) >= current_app.config["MAX_CONTENT_LENGTH"]:
        raise RequestEntityTooLarge()
    data = validation.parse_json_body(body)
    return validation.ask_body(data, *_known())


@bp.get("/ask")
def ask_get() -> Response:
    return _answer(validation.ask_query(request.args, *_known()))


def _known() -> tuple[frozenset[str], dict[str, list[str]]]:
    """The document ids and the collections a request may name."""
    return current_app.extensions["qa.document_ids"], current_app.config["ENGINE"].collections()


def _answer(ask: validation.AskRequest) -> Response:
    engine = current_app.config["ENGINE"]
    documents = ask.documents
    if ask.collections is not None:
        # Both given: the documents named that are in the collections named.
        members = engine.in_collections(ask.collections)
        documents = [d for d in members if documents is None or d in documents]
        if not documents:
            raise BadRequest("collections: none of the documents named is in these collections")
    return jsonify(
        engine.ask(ask.question, ask.history, ask.k, documents=documents, anchor=ask.anchor)
    )
