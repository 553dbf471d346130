"""The corpus as clients browse it: the document list, one document's passages, suggestions."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, send_file
from werkzeug.exceptions import NotFound

from qa.service import validation
from qa.service.ratelimit import limit_client
from qa.service.responses import DocumentPage, SuggestionList

bp = Blueprint("documents", __name__, url_prefix="/api")
bp.before_request(limit_client)


@bp.get("/documents")
def list_documents() -> Response:
    asked = validation.documents_query(request.args)
    documents = current_app.config["ENGINE"].find_documents(asked.text)
    end = asked.offset + asked.limit
    next_offset = end if end < len(documents) else None
    page = documents[asked.offset : end]
    return jsonify(DocumentPage(page, len(documents), asked.offset, asked.limit, next_offset))


@bp.get("/documents/<doc_id>")
def get_document(doc_id: str) -> Response:
    document = current_app.config["ENGINE"].document(doc_id)
    if document is None:
        raise NotFound(f"unknown document: {doc_id}")
    return jsonify(document)


# The original file's type by its suffix. Only a PDF is shown by the browser itself (pdf.js reads
# it); everything else, HTML above all, comes as plain text to save, never as a page of our origin.
FILE_TYPES = {".pdf": "application/pdf", ".txt": "text/plain", ".md": "text/plain"}
DOWNLOADED = "application/octet-stream"


@bp.get("/documents/<doc_id>/file")
def get_document_file(doc_id: str) -> Response:
    path = current_app.config["ENGINE"].source_file(doc_id)
    if path is None:
        raise NotFound(f"unknown document: {doc_id}")
    mimetype = FILE_TYPES.get(path.suffix.lower(), DOWNLOADED)
    # Text types get `charset=utf-8` from werkzeug; the corpus reads only UTF-8 text files.
    attachment = mimetype != "application/pdf"
    return send_file(path, mimetype=mimetype, as_attachment=attachment, download_name=path.name)


@bp.get("/suggestions")
def suggestions() -> Response:
    return jsonify(SuggestionList(current_app.config["ENGINE"].suggestions()))
