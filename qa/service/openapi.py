"""The OpenAPI 3.1 description of the API, built for the corpus being served.

It lists the corpus's document ids as the only valid values of `documents`, so that every request
the description calls valid is one the service accepts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import qa
from qa.settings import (
    K_DEFAULT,
    K_MAX,
    K_MIN,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    LIMIT_MIN,
    MAX_HISTORY,
    MAX_OFFSET,
    MAX_QUESTION,
)

# At least one character that is neither white space nor a control character (those are stripped).
VISIBLE = r"[^\s\x00-\x1f\x7f-\x9f]"

NULLABLE_STRING = {"type": ["string", "null"]}
SPAN = {
    "text": {"type": "string"},
    "start": {"type": "integer", "minimum": 0, "description": "Offset in the citation's text."},
    "end": {"type": "integer", "minimum": 0},
    "type": {"enum": ["date", "quantity", "place", "name"]},
}
STRINGS = {"type": "array", "items": {"type": "string"}}


def _object(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An object schema whose properties are all required."""
    return {"type": "object", "required": list(properties), "properties": properties, **extra}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): {"$ref": f"#/components/responses/E{status}"} for status in statuses}


SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "code": {
                        "type": "string",
                        "description": "bad_request, not_found, method_not_allowed, "
                        "payload_too_large, unsupported_media_type, uri_too_long, "
                        "header_fields_too_large, rate_limited, internal_error",
                    },
                    "message": {"type": "string", "description": "Names the field at fault."},
                },
                additionalProperties=False,
            )
        },
        additionalProperties=False,
    ),
    "Citation": _object(
        {
            "n": {"type": "integer", "minimum": 1},
            "passage_id": {"type": "string"},
            "document": _object({"id": {"type": "string"}, "title": {"type": "string"}}),
            "section": NULLABLE_STRING,
            "text": {"type": "string"},
            "score": {"type": "number"},
            "start": {"type": "integer", "minimum": 0},
            "end": {"type": "integer", "minimum": 0},
            "context": _object({"before": NULLABLE_STRING, "after": NULLABLE_STRING}),
            "matched_terms": STRINGS,
            "references": {"type": "array", "items": {"type": "integer"}},
            "kind": {"enum": ["prose", "infobox", "list"]},
            "answer_span": {"oneOf": [{"type": "null"}, _object(SPAN)]},
        }
    ),
    "Answer": _object(
        {
            "answer": {"type": "string"},
            "abstained": {"type": "boolean"},
            "answer_span": {
                "oneOf": [
                    {"type": "null"},
                    _object({**SPAN, "citation": {"type": "integer", "minimum": 1}}),
                ],
                "description": "The part of the first citation most likely to be the answer.",
            },
            "citations": {"type": "array", "maxItems": K_MAX, "items": _ref("Citation")},
            "query": _object(
                {
                    "terms": STRINGS,
                    "from_history": STRINGS,
                    "aliases": {
                        "type": "array",
                        "items": _object(
                            {
                                "form": {"type": "string"},
                                "names": STRINGS,
                                "defined_in": {"type": "string"},
                            }
                        ),
                    },
                    "spelling": {
                        "type": "array",
                        "items": _object(
                            {
                                "written": {"type": "string"},
                                "suggested": {"type": "string"},
                                "applied": {"type": "boolean"},
                            }
                        ),
                    },
                    "continues": {
                        "oneOf": [
                            {"type": "null"},
                            _object(
                                {"passage_id": {"type": "string"}, "direction": {"enum": [1, -1]}}
                            ),
                        ]
                    },
                }
            ),
            "took_ms": {"type": "number", "minimum": 0},
        }
    ),
    "DocumentSummary": _object(
        {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "sections": STRINGS,
            "passages": {"type": "integer", "minimum": 0},
        }
    ),
    "Passage": _object(
        {
            "id": {"type": "string"},
            "section": NULLABLE_STRING,
            "kind": {"enum": ["prose", "infobox", "list", "title"]},
            "text": {"type": "string"},
            "start": {"type": "integer", "minimum": 0},
            "end": {"type": "integer", "minimum": 0},
        }
    ),
    "Document": _object(
        {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "sections": STRINGS,
            "passages": {"type": "array", "items": _ref("Passage")},
        }
    ),
}

ERROR_RESPONSES = {
    400: "The body or a parameter is invalid; the message names the field.",
    404: "No such document.",
    413: "The body is over 64 KB.",
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
        },
        additionalProperties=False,
    )
    ask_request["required"] = ["question"]
    answer = _json(_ref("Answer"), "The answer with its cited passages.")
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
                    "responses": {"200": answer, **_errors(400, 429, 500)},
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
                        "200": _json(
                            _object(
                                {
                                    "documents": {
                                        "type": "array",
                                        "items": _ref("DocumentSummary"),
                                    },
                                    "total": {"type": "integer", "minimum": 0},
                                    "offset": {"type": "integer", "minimum": 0},
                                    "limit": {"type": "integer", "minimum": LIMIT_MIN},
                                    "next_offset": {"type": ["integer", "null"]},
                                }
                            ),
                            "The page of matching documents in corpus order, how many match in "
                            "all, and where the next page starts (null after the last).",
                        ),
                        **_errors(400, 429, 500),
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
                        "200": _json(_ref("Document"), "The document."),
                        **_errors(404, 429, 500),
                    },
                }
            },
            "/api/suggestions": {
                "get": {
                    "operationId": "suggestions",
                    "summary": "Questions to offer in an empty chat",
                    "responses": {
                        "200": _json(_object({"suggestions": STRINGS}), "Suggested questions."),
                        **_errors(429, 500),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "healthz",
                    "summary": "The process is alive",
                    "responses": {
                        "200": _json(_object({"status": {"const": "ok"}}), "Alive."),
                        **_errors(500),
                    },
                }
            },
            "/readyz": {
                "get": {
                    "operationId": "readyz",
                    "summary": "The index is loaded; corpus statistics",
                    "responses": {
                        "200": _json(
                            _object(
                                {
                                    "status": {"const": "ready"},
                                    # The version of the index folder answering (qa.index.store).
                                    "index": {"type": "string"},
                                    "documents": {"type": "integer", "minimum": 0},
                                    "passages": {"type": "integer", "minimum": 0},
                                    "terms": {"type": "integer", "minimum": 0},
                                    "skipped": {
                                        "type": "array",
                                        "items": _object(
                                            {
                                                "file": {"type": "string"},
                                                "reason": {"type": "string"},
                                            }
                                        ),
                                    },
                                }
                            ),
                            "Ready.",
                        ),
                        **_errors(500),
                    },
                }
            },
        },
        "components": {
            "schemas": SCHEMAS,
            "responses": {
                f"E{status}": _json(_ref("Error"), description)
                for status, description in ERROR_RESPONSES.items()
            }
            | {"E429": {**_json(_ref("Error"), ERROR_RESPONSES[429]), "headers": RETRY_AFTER}},
        },
    }
