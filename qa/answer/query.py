"""From a question (and its conversation) to a cited answer built only from corpus sentences."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from qa.ingest.passages import Passage
from qa.text.aliases import AliasGroup
from qa.text.analyze import Analyzer

# Earlier questions of a conversation count, less than the new one, and less the older they are.
HISTORY_WEIGHT = 0.5
HISTORY_DECAY = 0.5
# When no candidate passage holds this share of the question's idf mass, the corpus is taken not
# to hold the answer (the question is about what the documents never mention).
MIN_COVERAGE = 0.34
# "How many", "what kind of" and "what happened" say what kind of answer is wanted, not what it
# is about; their words would otherwise count as rare content terms.
QUESTION_FORMS = re.compile(
    r"\bhow\s+(?:many|much)\b|\bwhat\s+(?:happened|happens|happen)\b"
    r"|\b(?:what|which)\s+(?:kinds?|types?|sorts?)\s+of\b",
    re.I,
)
# A second sentence joins the answer text when the ranker finds it at least this share as likely
# to be the answer as the first.
SECOND_SENTENCE_SHARE = 0.8
# The weight of the question's own form of a name, when it was searched by the corpus's usual one.
ALIAS_WEIGHT = 0.5

NO_ANSWER = "The documents do not contain an answer to this question."
NO_TERMS = "The question has no searchable words; ask about a person, place, event or number."


@dataclass(frozen=True)
class Query:
    weights: dict[str, float]
    terms: list[str]
    from_history: list[str]
    # What the answer's `query` section also reports: aliases used, spellings suggested, and
    # the passage a "tell me more" continues from.
    aliases: list[dict] = field(default_factory=list)
    spelling: list[dict] = field(default_factory=list)
    continues: dict | None = None

    def with_names(self, names: list[tuple[str, AliasGroup, list[str]]]) -> Query:
        """The query that also finds the name the question used, when it searched for another.

        `names` holds (the form the question used, its group, that form's terms): the question
        was searched with the group's usual name, so passages that use the question's own form
        still count, at a lower weight.
        """
        weights = dict(self.weights)
        reported = []
        for form, group, terms in names:
            for term in terms:
                weights.setdefault(term, ALIAS_WEIGHT)
            reported.append(
                {
                    "form": form,
                    "names": [n for n in group.names() if n != form],
                    "defined_in": group.sources[group.forms[0]],
                }
            )
        return replace(self, weights=weights, aliases=reported)


def build_query(analyzer: Analyzer, question: str, history: Sequence[str] = ()) -> Query:
    """Weighted terms: the question's at their counts, earlier questions' at a decaying share."""
    own = question_terms(analyzer, question)
    weights: dict[str, float] = dict(Counter(own))
    earlier: list[str] = []
    for age, turn in enumerate(reversed(history)):
        share = HISTORY_WEIGHT * HISTORY_DECAY**age
        for term in question_terms(analyzer, turn):
            weights[term] = weights.get(term, 0.0) + share
            earlier.append(term)
    own_set = set(own)
    from_history = [t for t in dict.fromkeys(earlier) if t not in own_set]
    return Query(weights, list(dict.fromkeys(own)), from_history)


def question_terms(analyzer: Analyzer, question: str) -> list[str]:
    return analyzer.terms(QUESTION_FORMS.sub(" ", question))


def citation(
    n: int,
    passage: Passage,
    title: str,
    score: float,
    matched: list[str],
    before: Passage | None,
    after: Passage | None,
) -> dict:
    return {
        "n": n,
        "passage_id": passage.id,
        "document": {"id": passage.document, "title": title},
        "section": passage.section,
        "kind": passage.kind,
        "text": passage.text,
        "score": round(float(score), 4),
        "start": passage.start,
        "end": passage.end,
        "context": {
            "before": before.text if before else None,
            "after": after.text if after else None,
        },
        "matched_terms": matched,
        "references": list(passage.references),
        "answer_span": None,
    }


def quoted(citations: list[dict]) -> list[dict]:
    """The citations the answer quotes: the best, and the runner-up when nearly as good."""
    if (
        len(citations) > 1
        and citations[1]["score"] >= SECOND_SENTENCE_SHARE * citations[0]["score"]
    ):
        return citations[:2]
    return citations[:1]


def answer_text(citations: list[dict]) -> str:
    """The quoted sentences with their markers, or that the documents hold no answer."""
    if not citations:
        return NO_ANSWER
    return " ".join(f"{c['text']} [{c['n']}]" for c in quoted(citations))


def spelling_note(spelling: list[dict]) -> str:
    """What the answer says of the question's spelling, before the answer itself."""
    applied = [s for s in spelling if s["applied"]]
    if applied:
        said = ", ".join(
            f"\u201c{s['suggested']}\u201d (you wrote \u201c{s['written']}\u201d)" for s in applied
        )
        return f"Searched for {said}. "
    if spelling:
        return (
            "Did you mean " + " or ".join(f"\u201c{s['suggested']}\u201d" for s in spelling) + "? "
        )
    return ""


def answer_object(
    answer: str, citations: list[dict], query: Query, took_ms: float, abstained: bool
) -> dict:
    first_span = citations[0]["answer_span"] if citations else None
    return {
        "answer": answer,
        "abstained": abstained,
        "answer_span": {**first_span, "citation": 1} if first_span else None,
        "citations": citations,
        "query": {
            "terms": query.terms,
            "from_history": query.from_history,
            "aliases": query.aliases,
            "spelling": query.spelling,
            "continues": query.continues,
        },
        "took_ms": round(took_ms, 3),
    }
