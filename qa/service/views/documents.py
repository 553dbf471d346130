"""The corpus as clients browse and change it: the document list, one document's passages and
file, suggestions; uploads, replacements and removals (qa.service.uploads)."""

from __future__ import annotations

import time
from functools import partial
from pathlib import PurePosixPath

from flask import Blueprint, Response, current_app, jsonify, request, send_file
from werkzeug.exceptions import BadRequest, NotFound, UnsupportedMediaType

from qa.service import auth, uploads, validation
from qa.service.ratelimit import limit_client
from qa.service.responses import DocumentPage, FileOutcome, SuggestionList

bp = Blueprint("documents", __name__, url_prefix="/api")
bp.before_request(limit_client)

WRITES = ("POST", "PUT", "DELETE")
FORM_FIELDS = ("collection",)


@bp.before_request
def _authorize() -> None:
    if request.method in WRITES:
        auth.require_write()
        # An upload's body may be as large as QA_MAX_UPLOAD; questions keep their 64 KB.
        request.max_content_length = current_app.config["MAX_UPLOAD"]
    else:
        auth.require_read()


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


@bp.get("/documents/<doc_id>/file")
def get_document_file(doc_id: str) -> Response:
    path = current_app.config["ENGINE"].source_file(doc_id)
    if path is None:
        raise NotFound(f"unknown document: {doc_id}")
    mimetype = uploads.CONTENT_TYPES[path.suffix.lower()]
    attachment = mimetype != "application/pdf"
    response = send_file(path, mimetype=mimetype, as_attachment=attachment, download_name=path.name)
    if attachment:
        # Whatever a browser makes of the bytes, nothing in them runs or reaches this origin.
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@bp.post("/documents")
def upload() -> tuple[Response, int]:
    started = time.perf_counter()
    files, collection = _form(allow_collection=True)
    engine = current_app.config["ENGINE"]
    folder = collection or uploads.UPLOADS
    checked: list[uploads.Checked | uploads.Refused] = []
    for part in files:
        checked.append(uploads.check_file(engine.corpus_dir, folder, part))
    taken = [c for c in checked if isinstance(c, uploads.Checked)]
    if not taken:
        raise uploads.all_refused([c for c in checked if isinstance(c, uploads.Refused)])
    engine = uploads.change(engine, taken, [], _install())
    outcomes = uploads.outcomes(engine, checked)
    status = 201 if any(o.outcome == "added" for o in outcomes) else 200
    return jsonify(uploads.changes(outcomes, engine, started)), status


@bp.put("/documents/<doc_id>")
def replace(doc_id: str) -> Response:
    started = time.perf_counter()
    old = _stored(doc_id)
    files, _ = _form(allow_collection=False)
    if len(files) != 1:
        raise BadRequest("file: a replacement is one part named file")
    engine = current_app.config["ENGINE"]
    folder = PurePosixPath(old).parent.as_posix()
    checked = uploads.check_file(engine.corpus_dir, "" if folder == "." else folder, files[0])
    if isinstance(checked, uploads.Refused):
        raise uploads.all_refused([checked])
    engine = uploads.change(engine, [checked], [old], _install())
    unchanged = checked.stored == old
    outcome = uploads.outcomes(engine, [checked], "exists" if unchanged else "replaced")[0]
    if not unchanged and outcome.outcome == "replaced":
        outcome = FileOutcome(**{**_fields(outcome), "removed": doc_id})
    return jsonify(uploads.changes([outcome], engine, started))


@bp.delete("/documents/<doc_id>")
def remove(doc_id: str) -> Response:
    started = time.perf_counter()
    old = _stored(doc_id)
    engine = current_app.config["ENGINE"]
    summary = next(s for s in engine.documents() if s.id == doc_id)
    engine = uploads.change(engine, [], [old], _install())
    outcome = FileOutcome(PurePosixPath(old).name, "removed", summary, None, doc_id, None)
    return jsonify(uploads.changes([outcome], engine, started))


@bp.get("/suggestions")
def suggestions() -> Response:
    return jsonify(SuggestionList(current_app.config["ENGINE"].suggestions()))


def _stored(doc_id: str) -> str:
    stored = current_app.config["ENGINE"].document_file(doc_id)
    if stored is None:
        raise NotFound(f"unknown document: {doc_id}")
    return stored


def _form(allow_collection: bool) -> tuple[list, str | None]:
    """The multipart body's file parts and collection, checked; nothing else is allowed."""
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType(
            "Content-Type: must be multipart/form-data, with parts named file"
        )
    allowed = FORM_FIELDS if allow_collection else ()
    for name in request.form:
        if name == "file":
            raise BadRequest("file: the part has no file name (or a malformed one)")
        if name not in allowed:
            raise BadRequest(
                f"{name}: unknown field (allowed: file{''.join(', ' + a for a in allowed)})"
            )
    for name in request.files:
        if name != "file":
            raise BadRequest(f"{name}: unknown part; files go in parts named file")
    files = request.files.getlist("file")
    if not files:
        raise BadRequest("file: at least one part named file is required")
    collection = validation.collection_name(request.form.get("collection"))
    return files, collection


def _install():
    from qa.service.app import install

    return partial(install, current_app._get_current_object())


def _fields(outcome: FileOutcome) -> dict:
    return {name: getattr(outcome, name) for name in FileOutcome.__dataclass_fields__}
