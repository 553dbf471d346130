"""The answer inside a cited sentence: a date, a quantity or a name, by what the question asks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.text.analyze import Analyzer

MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
YEAR = r"(?:1[0-9]{3}|20[0-9]{2})(?:s)?"
DAY = r"[0-3]?[0-9](?:st|nd|rd|th)?"
DASH = r"\s*[-–—]\s*"
DATE = re.compile(
    rf"\b(?:{DAY}(?:{DASH}{DAY})?\s+{MONTH}(?:{DASH}{DAY}\s+{MONTH})?(?:,?\s+{YEAR})?"
    rf"|{MONTH}\s+{DAY}(?:,\s*{YEAR})?"
    rf"|{MONTH}(?:{DASH}{MONTH})?\s+{YEAR}"
    rf"|(?:early|mid|late)[- ]{YEAR}"
    rf"|{YEAR}(?:{DASH}(?:{YEAR}|[0-9]{{2}}))?"
    rf"|(?:the\s+)?[0-9]{{1,2}}(?:st|nd|rd|th)\s+century)\b"
)
NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|dozens?|hundreds|thousands|millions?|billions?)"
)
NUMBER = r"(?:[$€£]\s?)?\d[\d,]*(?:\.\d+)?\+?(?:\s*%)?"
# A number and the one or two words that say what it counts (`4,000 km²`, `50 soldiers`).
QUANTITY = re.compile(
    rf"(?:\b|(?=[$€£])){NUMBER}(?:{DASH}{NUMBER})?(?:\s+(?:million|billion|thousand|hundred))?"
    rf"(?:[- ](?!and\b|of\b|in\b|on\b|at\b|to\b|the\b)[A-Za-z²³]+)?"
    rf"|\b{NUMBER_WORDS}(?:[\s-]+{NUMBER_WORDS})*(?:\s+(?!and\b|of\b|the\b)[a-z]+)?\b",
    re.IGNORECASE,
)
# A capitalised name, possibly joined by short lower-case words (`Islamic State of Iraq`).
NAME = re.compile(
    r"\b(?:[A-Z][\w'’.-]*|al-[A-Z][\w'’-]*)(?:\s+(?:(?:of|the|and|de|al|for|on)\s+)*"
    r"(?:[A-Z][\w'’.-]*|al-[A-Z][\w'’-]*))*"
)
ASKS = [
    ("date", re.compile(r"\b(?:when|what\s+(?:year|date|day|month|decade|century|time))\b", re.I)),
    (
        "quantity",
        re.compile(
            r"\bhow\s+(?:many|much|long|far|old|large|big|tall|high|often)\b"
            r"|\bwhat\s+(?:percentage|percent|number|amount|proportion)\b",
            re.I,
        ),
    ),
    ("place", re.compile(r"\bwhere\b|\bin\s+what\s+(?:city|country|town|place|region)\b", re.I)),
    ("name", re.compile(r"\b(?:who|whom|whose|which)\b", re.I)),
]
# The noun a question asks about: `how many sides`, `which checkpoint`.
HEAD_NOUN = re.compile(r"\b(?:how\s+(?:many|much)|which)\s+(\w+)", re.I)
NEXT_WORD = re.compile(r"\s+(\w+)")
FINDERS = {"date": DATE, "quantity": QUANTITY, "place": NAME, "name": NAME}
# Sentence-initial words that are capitalised only because they start the sentence.
OPENERS = re.compile(
    r"^(?:The|A|An|On|In|At|By|After|Before|During|Later|Meanwhile|However|Eventually|Soon"
    r"|That|This|It|They|He|She)\b"
)


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int
    kind: str

    def as_dict(self) -> dict:
        return {"text": self.text, "start": self.start, "end": self.end, "type": self.kind}


def asked_kind(question: str) -> str | None:
    """What kind of answer the question wants: date, quantity, place or name; None otherwise."""
    for kind, pattern in ASKS:
        if pattern.search(question):
            return kind
    return None


def answer_span(question: str, sentence: str, analyzer: Analyzer) -> Span | None:
    """The span of the sentence most likely to answer the question, or None when none fits.

    A candidate of the asked kind that repeats the question's own words is passed over (a
    quantity may repeat the counted noun: `how many sides` -> `three sides`). One that goes with
    the noun the question asks about (`which checkpoint` -> `Panorama checkpoint`) wins; among
    the rest, the one nearest the question's words in the sentence.
    """
    kind = asked_kind(question)
    if kind is None:
        return None
    asked = set(analyzer.terms(question))
    noun = _head_noun(question, analyzer)
    places = _term_places(sentence, asked, analyzer)
    best: tuple[tuple[bool, float], Span] | None = None
    for match in FINDERS[kind].finditer(sentence):
        span = _trim(sentence, match.start(), match.end(), kind, analyzer)
        if span is None or _repeats_question(span, asked, analyzer):
            continue
        span, with_noun = _with_noun(sentence, span, noun, analyzer)
        rank = (not with_noun, _distance(span, places))
        if best is None or rank < best[0]:
            best = (rank, span)
    return best[1] if best else None


def _head_noun(question: str, analyzer: Analyzer) -> str | None:
    """The term of the noun a `how many X` or `which X` question asks about."""
    match = HEAD_NOUN.search(question)
    terms = analyzer.word_terms(match.group(1)) if match else ()
    return terms[0] if terms else None


def _with_noun(
    sentence: str, span: Span, noun: str | None, analyzer: Analyzer
) -> tuple[Span, bool]:
    """The span, with the asked-about noun when it ends it or follows it; and whether it does."""
    if noun is None:
        return span, False
    if analyzer.terms(span.text)[-1:] == [noun]:
        return span, True
    following = NEXT_WORD.match(sentence, span.end)
    if (
        span.kind in ("name", "place")
        and following
        and analyzer.word_terms(following.group(1)) == (noun,)
    ):
        end = following.end()
        return Span(sentence[span.start : end], span.start, end, span.kind), True
    return span, False


def _repeats_question(span: Span, asked: set[str], analyzer: Analyzer) -> bool:
    terms = analyzer.terms(span.text)
    if span.kind == "quantity":
        return bool(terms) and terms[0] in asked
    return any(t in asked for t in terms)


def _term_places(sentence: str, asked: set[str], analyzer: Analyzer) -> list[list[tuple[int, int]]]:
    """For each asked term the sentence holds, the spans of the words that carry it."""
    places: dict[str, list[tuple[int, int]]] = {}
    for m in re.finditer(r"\w+", sentence):
        terms = analyzer.word_terms(m.group())
        if terms and terms[0] in asked:
            places.setdefault(terms[0], []).append(m.span())
    return list(places.values())


def _distance(span: Span, places: list[list[tuple[int, int]]]) -> float:
    """The mean gap, in characters, between the span and each asked term's nearest place."""
    if not places:
        return 0.0
    gaps = [min(_gap(span, s, e) for s, e in spots) for spots in places]
    return sum(gaps) / len(gaps)


def _gap(span: Span, start: int, end: int) -> int:
    return max(0, start - span.end, span.start - end)


def _trim(sentence: str, start: int, end: int, kind: str, analyzer: Analyzer) -> Span | None:
    """The candidate without sentence-opening words, a trailing stopword or punctuation."""
    text = sentence[start:end]
    if kind == "quantity" and " " in text.strip() and not analyzer.word_terms(text.split()[-1]):
        text = text.rsplit(None, 1)[0]
    if kind in ("place", "name"):
        opener = OPENERS.match(text) if start == 0 else None
        if opener:
            start += opener.end()
            text = sentence[start:end].lstrip()
            start = end - len(text)
        if not text or text.lower() in {"i", "a"}:
            return None
    stripped = text.rstrip(" ,.;:")
    if not stripped:
        return None
    return Span(stripped, start, start + len(stripped), kind)
