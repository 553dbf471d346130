"""What the engine answers, typed: an answer, its citations and spans, the query report, documents.

These dataclasses are the responses' one definition: the service encodes them as they are
(qa.service.json_provider), `as_json` gives the same plain objects to the command line, and the
OpenAPI schemas are generated from their fields (qa.service.schema). A field's `metadata` holds
what JSON Schema says beyond its type (a minimum, a description).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from operator import attrgetter
from typing import Any, Literal

import orjson

from qa.settings import K_MAX

SpanType = Literal["date", "quantity", "place", "name"]
PassageKind = Literal["prose", "infobox", "list"]
# Keys sorted, as Flask's own encoder sorts them, so an answer reads the same every time; orjson
# sorts only dicts, so dataclasses reach it as dicts (see _as_dict).
JSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE | orjson.OPT_PASSTHROUGH_DATACLASS


def _at_least(minimum: int, description: str = "") -> Any:
    """A required field whose JSON Schema has a minimum (and a description)."""
    schema: dict[str, Any] = {"minimum": minimum}
    if description:
        schema["description"] = description
    return field(metadata=schema)


PAGE = {
    "minimum": 1,
    "description": "A PDF's page, from 1; `start` and `end` are then offsets in that page's "
    "text (past its end when the sentence goes on to the next page). null for other documents.",
}


@dataclass(frozen=True, slots=True)
class Span:
    """The part of a cited sentence most likely to be the answer."""

    text: str
    start: int = _at_least(0, "Offset in the citation's text.")
    end: int = _at_least(0)
    type: SpanType


@dataclass(frozen=True, slots=True)
class AnswerSpan(Span):
    """The answer's span: the one in the first citation, with that citation's number."""

    citation: int = _at_least(1)


@dataclass(frozen=True, slots=True)
class DocumentRef:
    id: str
    title: str


@dataclass(frozen=True, slots=True)
class Context:
    """The sentences before and after a cited one in its document, when there are."""

    before: str | None
    after: str | None


@dataclass(slots=True)
class Citation:
    n: int = _at_least(1)
    passage_id: str
    document: DocumentRef
    section: str | None
    kind: PassageKind
    text: str
    score: float
    start: int = _at_least(0)
    end: int = _at_least(0)
    page: int | None = field(metadata=PAGE)
    context: Context
    matched_terms: list[str]
    references: list[int]
    answer_span: Span | None


@dataclass(frozen=True, slots=True)
class AliasNote:
    """A name of the question that was also searched by the other names the corpus gives it."""

    form: str
    names: list[str]
    defined_in: str = field(metadata={"description": "The passage that defines the names."})
    document: str = field(metadata={"description": "The document of that passage."})


@dataclass(frozen=True, slots=True)
class SpellingNote:
    """A word of the question the corpus spells otherwise: searched instead when applied."""

    written: str
    suggested: str
    applied: bool


@dataclass(frozen=True, slots=True)
class Continues:
    """The passage a "tell me more" went on from, and which way (1: after, -1: before)."""

    passage_id: str
    document: str
    direction: Literal[1, -1]


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where the passages an answer cites stand in their document: a "tell me more" goes on
    after `last`, an "and before that?" before `first`."""

    document: str
    first: int = _at_least(0)
    last: int = _at_least(0)


@dataclass(frozen=True, slots=True)
class QueryReport:
    """What was searched: the question's terms, the conversation's, aliases and spellings."""

    terms: list[str]
    from_history: list[str]
    aliases: list[AliasNote]
    spelling: list[SpellingNote]
    continues: Continues | None


@dataclass(slots=True)
class Answer:
    """The answer to a question: its text, the citations it rests on, and what was searched.

    `answer` is the whole text as a reader sees it: `note` on the spelling, then the quoted
    sentences with their [n] markers, or `message` when it quotes none.
    """

    answer: str
    abstained: bool
    answer_span: AnswerSpan | None
    citations: list[Citation] = field(metadata={"maxItems": K_MAX})
    quoted: list[int] = field(metadata={"description": "The citations the answer quotes."})
    message: str | None = field(
        metadata={"description": "What the answer says when it quotes no citation."}
    )
    note: str | None = field(
        metadata={"description": "What the answer says of the question's spelling, first."}
    )
    anchor: Anchor | None = field(
        metadata={"description": "Send it back with a follow-up to go on from this answer."}
    )
    query: QueryReport
    took_ms: float = field(metadata={"minimum": 0})


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    id: str
    title: str
    sections: list[str]
    passages: int = _at_least(0)
    collection: str | None = field(
        default=None,
        metadata={"description": "The top-level folder of the corpus the document is in, if any."},
    )


@dataclass(frozen=True, slots=True)
class PassageView:
    """A passage of a document as the source viewer shows it."""

    id: str
    section: str | None
    kind: PassageKind
    text: str
    start: int = _at_least(0)
    end: int = _at_least(0)
    page: int | None = field(metadata=PAGE)
    references: list[int]


@dataclass(frozen=True, slots=True)
class DocumentView:
    """A document as its ordered passages, with their offsets in the file."""

    id: str
    title: str
    sections: list[str]
    passages: list[PassageView]


def encode(value: Any) -> bytes:
    """The JSON of a response (dataclasses, lists, dicts of them), keys sorted.

    Raises TypeError (orjson.JSONEncodeError) for what orjson cannot encode: a lone surrogate,
    a type it does not know.
    """
    return orjson.dumps(value, default=_as_dict, option=JSON_OPTIONS)


def _as_dict(value: Any) -> dict[str, Any]:
    """A dataclass's fields, one level deep: orjson calls this again for those it holds."""
    names, values = _fields_of(type(value))
    return dict(zip(names, values(value), strict=True))


@cache
def _fields_of(cls: type) -> tuple[tuple[str, ...], Callable[[Any], tuple]]:
    """A dataclass's field names, and what reads them all at once."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"not JSON: {cls.__name__}")
    names = tuple(f.name for f in dataclasses.fields(cls))
    # attrgetter of one name gives the value, not a 1-tuple.
    getter = attrgetter(*names) if len(names) > 1 else lambda value: (getattr(value, names[0]),)
    return names, getter


def as_json(value: Any) -> Any:
    """The plain JSON value (dicts, lists, strings, numbers) of a response."""
    return orjson.loads(encode(value))
