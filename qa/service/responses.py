"""The service's own responses, beside the engine's (qa.answer.model): errors, pages, probes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from qa.answer.model import DocumentSummary
from qa.settings import LIMIT_MIN

# Stable codes for the statuses clients handle (Werkzeug's names change with the RFCs).
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    429: "rate_limited",
    431: "header_fields_too_large",
    500: "internal_error",
    503: "unavailable",
}
# A 503 of its own: a shard of the index cannot answer (qa.service.cluster); the message names it.
SHARD_UNAVAILABLE = "shard_unavailable"


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    code: str = field(metadata={"description": ", ".join([*CODES.values(), SHARD_UNAVAILABLE])})
    message: str = field(metadata={"description": "Names the field at fault."})


@dataclass(frozen=True, slots=True)
class Error:
    """The one shape of every error."""

    error: ErrorDetail


@dataclass(frozen=True, slots=True)
class DocumentPage:
    """A page of the matching documents in corpus order, how many match in all, and where the
    next page starts (null after the last)."""

    documents: list[DocumentSummary]
    total: int = field(metadata={"minimum": 0})
    offset: int = field(metadata={"minimum": 0})
    limit: int = field(metadata={"minimum": LIMIT_MIN})
    next_offset: int | None


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What became of one file of an upload, a replacement or a removal."""

    file: str = field(metadata={"description": "The file's name as the client sent it."})
    outcome: Literal["added", "exists", "replaced", "removed", "refused"] = field(
        metadata={
            "description": "added: a new document; exists: the same bytes are already a document "
            "(its id is given); replaced: the new document in place of `removed`; removed: the "
            "document is gone; refused: see `error`, nothing was changed for this file."
        }
    )
    document: DocumentSummary | None = field(
        metadata={"description": "The document the file is now (the one removed, for removed)."}
    )
    stored: str | None = field(
        metadata={"description": "Where the file is kept, as a path in the corpus folder."}
    )
    removed: str | None = field(
        metadata={"description": "The id of the document this call took out of the index."}
    )
    error: ErrorDetail | None = field(metadata={"description": "Why the file was refused."})


@dataclass(frozen=True, slots=True)
class DocumentChanges:
    """Each file's outcome, in the order sent, and the index version that answers with them."""

    files: list[FileOutcome]
    index: str
    took_ms: float = field(metadata={"minimum": 0})


@dataclass(frozen=True, slots=True)
class SuggestionList:
    suggestions: list[str]


@dataclass(frozen=True, slots=True)
class Health:
    status: Literal["ok"]


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A corpus file that was not indexed, and why."""

    file: str
    reason: str


@dataclass(frozen=True, slots=True)
class ShardPlace:
    """A shard of the index and where its replicas answer."""

    name: str
    replicas: int = field(metadata={"minimum": 1})
    nodes: list[str] = field(
        metadata={
            "description": "The node of each replica: a Ray node id, or `local` when the shards "
            "are served in the answering process."
        }
    )


@dataclass(frozen=True, slots=True)
class Ready:
    """The index answering: its version folder (qa.index.store), the corpus's statistics and,
    for an index of several shards, where each shard answers (every one answered the probe)."""

    status: Literal["ready"]
    index: str
    documents: int = field(metadata={"minimum": 0})
    passages: int = field(metadata={"minimum": 0})
    terms: int = field(metadata={"minimum": 0})
    skipped: list[SkippedFile]
    shards: list[ShardPlace]
