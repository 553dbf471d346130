"""The OpenAPI 3.1 description of the API, built for the corpus being served.

It lists the corpus's document ids as the only valid values of `documents`, so that every request
the description calls valid is one the service accepts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import qa
from qa.answer.model import Answer, DocumentView
from qa.service.responses import DocumentPage, Error, Health, Ready, SuggestionList
from qa.service.schema import components, ref
from qa.settings import (
    K_DEFAULT,
    K_MAX,
    K_MIN,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    LIMIT_MIN,
    MAX_BODY_BYTES,
    MAX_HISTORY,
    MAX_OFFSET,
    MAX_QUESTION,
)

# What GET /api/documents/{doc_id}/file answers with (qa.service.views.documents.FILE_TYPES).
FILE_TYPES = ("application/pdf", "text/plain", "application/octet-stream")

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
    400: "The body or a parameter is invalid; the message names the field.",
    404: "No such document.",
    413: f"The body is over {MAX_BODY_BYTES // 1024} KB.",
    414: "The request line is over 8,190 bytes, gunicorn's limit: a question of 1,000 characters "
    "fits only where few are outside ASCII; POST longer ones.",
    415: "The body is not sent as application/json.",
    429: "The client is over its rate limit; retry after Retry-After seconds.",
    500: "Internal error; the trace is logged under the response's X-Request-ID.",
}

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


def spec(document_ids: Iterable[str]) -> dict[str, Any]:
    """The OpenAPI document for a service whose corpus holds these documents."""
    ids = sorted(document_ids)
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
    return {
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
                    "responses": {"200": answer, **_errors(400, 413, 415, 429, 500)},
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
                    ],
                    "responses": {"200": answer, **_errors(400, 414, 429, 500)},
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
                }
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
                }
            },
            "/api/documents/{doc_id}/file": {
                "get": {
                    "operationId": "getDocumentFile",
                    "summary": "The document's original file, as it is in the corpus folder now",
                    "description": "A PDF comes as application/pdf (the page's viewer draws it); "
                    "every other type as an attachment: text/plain for .txt and .md, "
                    "application/octet-stream for .html, .htm and .docx, so that no document is "
                    "ever shown as a page of this origin.",
                    "parameters": [
                        {
                            "name": "doc_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The file's bytes.",
                            "content": {
                                media: {"schema": {"type": "string", "format": "binary"}}
                                for media in FILE_TYPES
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
                        **_errors(429, 500),
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
                        **_errors(500),
                    },
                }
            },
        },
        "components": {
            "schemas": components(
                Answer, DocumentView, DocumentPage, SuggestionList, Health, Ready, Error
            ),
            "responses": {
                f"E{status}": _json(ref(Error), description)
                for status, description in ERROR_RESPONSES.items()
            }
            | {"E429": {**_json(ref(Error), ERROR_RESPONSES[429]), "headers": RETRY_AFTER}},
        },
    }
