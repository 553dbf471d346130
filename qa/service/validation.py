"""Checks and cleans the ask request, naming the offending field in every error message."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest

from qa.answer.model import Anchor
from qa.settings import (
    K_DEFAULT,
    K_MAX,
    K_MIN,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    LIMIT_MIN,
    MAX_COLLECTION,
    MAX_FILE_NAME,
    MAX_HISTORY,
    MAX_OFFSET,
    MAX_QUESTION,
)

FIELDS = ("question", "history", "k", "documents", "collections", "anchor")
ANCHOR_FIELDS = ("document", "first", "last")
# One folder name: no separator, not hidden, not "." or "..".
COLLECTION = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_COLLECTION - 1}}}")


@dataclass(frozen=True)
class DocumentsRequest:
    text: str = ""  # only documents whose title or id holds this
    offset: int = 0
    limit: int = LIMIT_DEFAULT


@dataclass(frozen=True)
class AskRequest:
    question: str
    history: tuple[str, ...] = ()
    k: int = K_DEFAULT
    documents: tuple[str, ...] | None = None
    collections: tuple[str, ...] | None = None
    anchor: Anchor | None = None


def parse_json_body(body: bytes) -> Any:
    """The decoded JSON body, or a 400 saying it is not JSON."""
    try:
        return json.loads(body)
    # ValueError covers malformed JSON and bad UTF-8; RecursionError, absurdly deep nesting.
    except (ValueError, RecursionError):
        raise BadRequest("body: not valid JSON") from None


def ask_body(
    data: Any, known_documents: Collection[str], known_collections: Collection[str] = ()
) -> AskRequest:
    """Validates a decoded POST body; an optional field left out takes its default."""
    if not isinstance(data, Mapping):
        raise BadRequest("body: must be a JSON object")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise BadRequest(f"{unknown[0]}: unknown field (allowed: {', '.join(FIELDS)})")
    fields: dict[str, Any] = {"question": _question(_required(data, "question"), "question")}
    # Present means checked: null is not a way to ask for the default.
    if "history" in data:
        fields["history"] = _history(data["history"])
    if "k" in data:
        fields["k"] = _integer(data["k"], "k", K_MIN, K_MAX)
    if "documents" in data:
        fields["documents"] = _documents(data["documents"], known_documents)
    if "collections" in data:
        fields["collections"] = _collections(data["collections"], known_collections)
    if "anchor" in data:
        fields["anchor"] = _anchor(data["anchor"], known_documents)
    return AskRequest(**fields)


def ask_query(
    args: MultiDict[str, str],
    known_documents: Collection[str],
    known_collections: Collection[str] = (),
) -> AskRequest:
    """Validates the query string of GET /api/ask: q, k, repeated documents and collections."""
    fields: dict[str, Any] = {"question": _question(_required(args, "q"), "q")}
    if "k" in args:
        fields["k"] = _query_integer(args, "k", K_MIN, K_MAX)
    if "documents" in args:
        fields["documents"] = _documents(args.getlist("documents"), known_documents)
    if "collections" in args:
        fields["collections"] = _collections(args.getlist("collections"), known_collections)
    return AskRequest(**fields)


def documents_query(args: MultiDict[str, str]) -> DocumentsRequest:
    """Validates the query string of GET /api/documents: q, offset and limit."""
    fields: dict[str, Any] = {}
    if "q" in args:
        fields["text"] = clean_text(_string(args["q"], "q"))
    if "offset" in args:
        fields["offset"] = _query_integer(args, "offset", 0, MAX_OFFSET)
    if "limit" in args:
        fields["limit"] = _query_integer(args, "limit", LIMIT_MIN, LIMIT_MAX)
    return DocumentsRequest(**fields)


def clean_text(text: str) -> str:
    """Line breaks and tabs become spaces, other control characters go, lone surrogates U+FFFD."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc":
            if char.isspace():
                kept.append(" ")
        elif category == "Cs":
            # JSON can carry "\ud800" escapes; they are not text and cannot be encoded.
            kept.append("\ufffd")
        else:
            kept.append(char)
    return "".join(kept).strip()


def _string(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{field}: must be a string")
    # The limit is on what the client sent, before cleaning, so it matches the OpenAPI maxLength.
    if len(value) > MAX_QUESTION:
        raise BadRequest(f"{field}: at most {MAX_QUESTION} characters")
    return value


def _required(data: Mapping[str, Any], field: str) -> Any:
    if field not in data:
        raise BadRequest(f"{field}: required")
    return data[field]


def _question(value: Any, field: str) -> str:
    question = clean_text(_string(value, field))
    if not question:
        raise BadRequest(f"{field}: must not be empty")
    return question


def _history(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise BadRequest("history: must be an array of strings")
    if len(value) > MAX_HISTORY:
        raise BadRequest(f"history: at most {MAX_HISTORY} entries")
    turns = (clean_text(_string(turn, f"history[{i}]")) for i, turn in enumerate(value))
    return tuple(turn for turn in turns if turn)


def _integer(value: Any, field: str, low: int, high: int) -> int:
    # JSON Schema counts 3.0 as an integer, and so does the OpenAPI description; bool is not one.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"{field}: must be an integer from {low} to {high}")
    return value


def _query_integer(args: MultiDict[str, str], field: str, low: int, high: int) -> int:
    value = args[field]
    if not re.fullmatch(r"[0-9]{1,10}", value) or not low <= int(value) <= high:
        raise BadRequest(f"{field}: must be an integer from {low} to {high}")
    return int(value)


def _documents(value: Any, known: Collection[str]) -> tuple[str, ...]:
    return _known_names(value, known, "documents", "document id", "document")


def _collections(value: Any, known: Collection[str]) -> tuple[str, ...]:
    return _known_names(value, known, "collections", "collection name", "collection")


def _known_names(
    value: Any, known: Collection[str], field: str, item: str, kind: str
) -> tuple[str, ...]:
    """A non-empty list of names that `known` holds, each fault named by its place."""
    if not isinstance(value, list) or not value:
        raise BadRequest(f"{field}: must be a non-empty array of {item}s")
    for i, name in enumerate(value):
        if not isinstance(name, str):
            raise BadRequest(f"{field}[{i}]: must be a string")
        if name not in known:
            raise BadRequest(f"{field}[{i}]: unknown {kind} {name!r}")
    return tuple(value)


def collection_name(value: str | None) -> str | None:
    """The collection an upload goes to, checked to be one plain folder name; None if not given."""
    if value is None or value == "":
        return None
    if not COLLECTION.fullmatch(value):
        raise BadRequest(
            f"collection: must be 1 to {MAX_COLLECTION} letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (one folder name, no path)"
        )
    return value


def file_name(value: str | None, field: str = "file") -> str:
    """An uploaded file's own name, refused when it has path parts or control characters."""
    if not value:
        raise BadRequest(f"{field}: the part has no file name")
    if len(value) > MAX_FILE_NAME:
        raise BadRequest(f"{field}: file name over {MAX_FILE_NAME} characters")
    if "/" in value or "\\" in value or value in (".", ".."):
        raise BadRequest(f"{field}: file name {value!r} has path parts; send the name alone")
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs") for char in value):
        raise BadRequest(f"{field}: file name {value!r} has control characters")
    return value


def _anchor(value: Any, known: Collection[str]) -> Anchor:
    if not isinstance(value, Mapping) or set(value) != set(ANCHOR_FIELDS):
        raise BadRequest(f"anchor: must be an object of {', '.join(ANCHOR_FIELDS)}")
    document = value["document"]
    if not isinstance(document, str) or document not in known:
        raise BadRequest(f"anchor.document: unknown document {document!r}")
    first, last = (
        _integer(value[end], f"anchor.{end}", 0, MAX_OFFSET) for end in ("first", "last")
    )
    return Anchor(document, first, last)
