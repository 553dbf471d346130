"""The OpenAPI 3.1 description of the API, built for the corpus being served.

It lists the corpus's document ids as the only valid values of `documents`, so that every request
the description calls valid is one the service accepts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import qa
from qa.answer.model import Answer, DocumentView
from qa.ingest.readers import READERS
from qa.service.responses import (
    DocumentChanges,
    DocumentPage,
    Error,
    Health,
    Ready,
    SuggestionList,
)
from qa.service.schema import components, ref
from qa.service.uploads import CONTENT_TYPES
from qa.service.validation import COLLECTION
from qa.settings import (
    K_DEFAULT,
    K_MAX,
    K_MIN,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    LIMIT_MIN,
    MAX_BODY_BYTES,
    MAX_COLLECTION,
    MAX_HISTORY,
    MAX_OFFSET,
    MAX_QUESTION,
)

# Every response body the API sends, whose schemas the description's components hold.
RESPONSES = (
    Answer,
    DocumentView,
    DocumentPage,
    DocumentChanges,
    SuggestionList,
    Health,
    Ready,
    Error,
)
# At least one character that is neither white space nor a control character (those are stripped).
VISIBLE = r"[^\s\x00-\x1f\x7f-\x9f]"


def _object(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An object schema whose properties are all required."""
    return {"type": "object", "required": list(properties), "properties": properties, **extra}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): {"$ref": f"#/components/responses/E{status}"} for status in statuses}


ERROR_RESPONSES = {
    400: "The body or a parameter is invalid; the message names the field (for files: why each "
    "was refused).",
    401: "The Authorization header is missing or holds another key (see WWW-Authenticate).",
    403: "Writes are disabled: no QA_API_KEY is configured; the message says how to enable them.",
    404: "No such document.",
    409: "Refused: the change would leave the corpus with no usable document.",
    413: f"The body is over {MAX_BODY_BYTES // 1024} KB (an upload's: over QA_MAX_UPLOAD).",
    414: "The request line is over 8,190 bytes, gunicorn's limit: a question of 1,000 characters "
    "fits only where few are outside ASCII; POST longer ones.",
    415: "The body is not sent as application/json (multipart/form-data for files), or no file "
    f"is of a supported type ({' '.join(READERS)}).",
    429: "The client is over its rate limit; retry after Retry-After seconds.",
    500: "Internal error; the trace is logged under the response's X-Request-ID.",
    503: "Another process is writing the index, or it cannot be saved now (nothing was "
    "changed); or a shard of the index cannot answer now (code shard_unavailable, the message "
    "names it): no answer is given from the other shards alone.",
}
BEARER = "bearerAuth"
WRITE_SECURITY = [{BEARER: []}]
WWW_AUTHENTICATE = {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}}

RETRY_AFTER = {
    "Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1}},
}


def _question(description: str) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_QUESTION,
        "pattern": VISIBLE,
        "description": description,
    }


def _k() -> dict[str, Any]:
    return {"type": "integer", "minimum": K_MIN, "maximum": K_MAX, "default": K_DEFAULT}


def _document_ids(ids: list[str]) -> dict[str, Any]:
    return {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ids}}


def _anchor(ids: list[str]) -> dict[str, Any]:
    ordinal = {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}
    return _object(
        {"document": {"type": "string", "enum": ids}, "first": ordinal, "last": ordinal},
        additionalProperties=False,
    )


def _doc_id() -> dict[str, Any]:
    return {"name": "doc_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _files_body(many: bool) -> dict[str, Any]:
    """A multipart body of files (parts named `file`), with a collection for new ones."""
    binary = {"type": "string", "format": "binary"}
    properties: dict[str, Any] = {
        "file": {"type": "array", "minItems": 1, "items": binary} if many else binary
    }
    if many:
        properties["collection"] = {
            "type": "string",
            "pattern": f"^{COLLECTION.pattern}$",
            "maxLength": MAX_COLLECTION,
            "description": "The collection (a top-level folder of the corpus) the files go to; "
            "without it, `uploads`.",
        }
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": _object(properties, additionalProperties=False) | {"required": ["file"]},
                "encoding": {"file": {"contentType": "application/octet-stream"}},
            }
        },
    }


def spec(
    document_ids: Iterable[str],
    collections: Iterable[str] = (),
    read_key: bool = False,
) -> dict[str, Any]:
    """The OpenAPI document for a service whose corpus holds these documents and collections;
    with `read_key`, reads need the bearer key too."""
    ids = sorted(document_ids)
    names = sorted(collections)
    scope: dict[str, Any] = {}
    if names:
        scope["collections"] = {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "enum": names},
            "description": "Search only the documents of these collections (with `documents`: "
            "those of them in these collections).",
        }
    ask_request = _object(
        {
            "question": _question("Control characters are removed, line breaks become spaces."),
            "history": {
                "type": "array",
                "maxItems": MAX_HISTORY,
                "items": {"type": "string", "maxLength": MAX_QUESTION},
                "description": "Earlier questions of the conversation, oldest first.",
            },
            "k": {**_k(), "description": "How many citations at most."},
            "documents": {**_document_ids(ids), "description": "Search only these documents."},
            **scope,
            "anchor": {
                **_anchor(ids),
                "description": "The `anchor` of the answer a follow-up such as "
                '"tell me more" goes on from (else the answer to the last question of `history`).',
            },
        },
        additionalProperties=False,
    )
    ask_request["required"] = ["question"]
    answer = _json(ref(Answer), "The answer with its cited passages.")
    reads = {"security": WRITE_SECURITY} if read_key else {}
    read_errors = (401,) if read_key else ()
    changed = _json(ref(DocumentChanges), "What became of each file, and the index answering.")
    write_errors = _errors(400, 401, 403, 404, 409, 413, 415, 429, 500, 503)
    description = {
        "openapi": "3.1.0",
        "info": {
            "title": "qa",
            "version": qa.__version__,
            "description": "Answers questions with sentences quoted from a corpus, each cited.",
        },
        "paths": {
            "/api/ask": {
                "post": {
                    "operationId": "ask",
                    "summary": "Answer a question",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": ask_request}},
                    },
                    "responses": {"200": answer, **_errors(400, 413, 415, 429, 500, 503)},
                },
                "get": {
                    "operationId": "askQuery",
                    "summary": "Answer a question given in the query string",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "required": True,
                            "schema": _question("The question, cleaned as in the POST body."),
                        },
                        {"name": "k", "in": "query", "schema": _k()},
                        {
                            "name": "documents",
                            "in": "query",
                            "schema": _document_ids(ids),
                            "style": "form",
                            "explode": True,
                        },
                        *(
                            [
                                {
                                    "name": "collections",
                                    "in": "query",
                                    "schema": scope["collections"],
                                    "style": "form",
                                    "explode": True,
                                }
                            ]
                            if scope
                            else []
                        ),
                    ],
                    "responses": {"200": answer, **_errors(400, 414, 429, 500, 503)},
                },
            },
            "/api/documents": {
                "get": {
                    "operationId": "listDocuments",
                    "summary": "The documents, their sections and passage counts, a page at a time",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "maxLength": MAX_QUESTION,
                                "description": "Only documents whose title or id holds this text, "
                                "case and accents aside.",
                            },
                        },
                        {
                            "name": "offset",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {
                                "type": "integer",
                                "minimum": LIMIT_MIN,
                                "maximum": LIMIT_MAX,
                                "default": LIMIT_DEFAULT,
                            },
                        },
                    ],
                    "responses": {
                        "200": _json(ref(DocumentPage), "A page of the matching documents."),
                        **_errors(400, 414, 429, 500),
                    },
                },
                "post": {
                    "operationId": "addDocuments",
                    "summary": "Add files as documents, answerable when the call returns",
                    "description": "Each file is refused or taken on its own. 201 when a file "
                    "was added, 200 when every file taken was already a document; when none is "
                    "taken, the error of their refusals. Each write rebuilds the index.",
                    "security": WRITE_SECURITY,
                    "requestBody": _files_body(many=True),
                    "responses": {
                        "200": changed,
                        "201": changed,
                        **_errors(400, 401, 403, 409, 413, 415, 429, 500, 503),
                    },
                },
            },
            "/api/documents/{doc_id}": {
                "get": {
                    "operationId": "getDocument",
                    "summary": "A document as its ordered passages, with offsets",
                    "parameters": [
                        {
                            "name": "doc_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": _json(ref(DocumentView), "The document."),
                        **_errors(404, 414, 429, 500),
                    },
                },
                "put": {
                    "operationId": "replaceDocument",
                    "summary": "Replace a document's file; the answer gives the new id",
                    "security": WRITE_SECURITY,
                    "parameters": [_doc_id()],
                    "requestBody": _files_body(many=False),
                    "responses": {"200": changed, **write_errors},
                },
                "delete": {
                    "operationId": "removeDocument",
                    "summary": "Remove a document and its file",
                    "security": WRITE_SECURITY,
                    "parameters": [_doc_id()],
                    "responses": {
                        "200": changed,
                        **_errors(401, 403, 404, 409, 429, 500, 503),
                    },
                },
            },
            "/api/documents/{doc_id}/file": {
                "get": {
                    "operationId": "getDocumentFile",
                    "summary": "The document's original file, as it is in the corpus folder now",
                    "description": "A PDF comes as application/pdf (the page's viewer draws it); "
                    "every other type as an attachment: text/plain for .txt and .md, "
                    "application/octet-stream for .html, .htm and .docx, so that no document is "
                    "ever shown as a page of this origin.",
                    "parameters": [_doc_id()],
                    "responses": {
                        "200": {
                            "description": "The file's bytes.",
                            "content": {
                                media: {"schema": {"type": "string", "format": "binary"}}
                                for media in sorted(set(CONTENT_TYPES.values()))
                            },
                        },
                        **_errors(404, 414, 429, 500),
                    },
                }
            },
            "/api/suggestions": {
                "get": {
                    "operationId": "suggestions",
                    "summary": "Questions to offer in an empty chat",
                    "responses": {
                        "200": _json(ref(SuggestionList), "Suggested questions."),
                        **_errors(429, 500, 503),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "healthz",
                    "summary": "The process is alive",
                    "responses": {
                        "200": _json(ref(Health), "Alive."),
                        **_errors(500),
                    },
                }
            },
            "/readyz": {
                "get": {
                    "operationId": "readyz",
                    "summary": "The index is loaded; corpus statistics",
                    "responses": {
                        "200": _json(ref(Ready), "Ready."),
                        **_errors(500, 503),
                    },
                }
            },
        },
        "components": {
            "schemas": components(*RESPONSES),
            "responses": {
                f"E{status}": _json(ref(Error), description)
                for status, description in ERROR_RESPONSES.items()
            }
            | {"E429": {**_json(ref(Error), ERROR_RESPONSES[429]), "headers": RETRY_AFTER}}
            | {"E401": {**_json(ref(Error), ERROR_RESPONSES[401]), "headers": WWW_AUTHENTICATE}},
            "securitySchemes": {
                BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Writes need QA_API_KEY; reads need QA_READ_KEY (or the API "
                    "key) when it is set.",
                }
            },
        },
    }
    if read_key:
        for path, operations in description["paths"].items():
            if path.startswith("/api/") and path != "/api/openapi.json":
                for operation in operations.values():
                    if "security" not in operation:
                        operation.update(reads)
                        operation["responses"].update(_errors(*read_errors))
    return description
