"""The answer inside a cited sentence: a date, a quantity or a name, by what the question asks
(read by qa.text.question, which holds the patterns that find each kind)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.text.analyze import Analyzer
from qa.text.question import SPAN_FINDERS, Question, analyse

NEXT_WORD = re.compile(r"\s+(\w+)")
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


def answer_span(question: str | Question, sentence: str, analyzer: Analyzer) -> Span | None:
    """The span of the sentence most likely to answer the question (its text or its analysis),
    or None when none fits.

    A candidate of the asked kind that repeats the question's own words is passed over (a
    quantity may repeat the counted noun: `how many sides` -> `three sides`). One that goes with
    the noun the question asks about (`which checkpoint` -> `Panorama checkpoint`) wins; among
    the rest, the one nearest the question's words in the sentence.
    """
    question = analyse(question)
    kind = question.kind
    if kind is None:
        return None
    asked = set(analyzer.terms(question.text))
    noun = _head_noun(question, analyzer)
    places = _term_places(sentence, asked, analyzer)
    best: tuple[tuple[bool, float], Span] | None = None
    for match in SPAN_FINDERS[kind].finditer(sentence):
        span = _trim(sentence, match.start(), match.end(), kind, analyzer)
        if span is None or _repeats_question(span, asked, analyzer):
            continue
        span, with_noun = _with_noun(sentence, span, noun, analyzer)
        rank = (not with_noun, _distance(span, places))
        if best is None or rank < best[0]:
            best = (rank, span)
    return best[1] if best else None


def _head_noun(question: Question, analyzer: Analyzer) -> str | None:
    """The term of the noun a `how many X` or `which X` question asks about."""
    terms = analyzer.word_terms(question.head) if question.head is not None else ()
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
