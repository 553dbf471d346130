"""From a question (and its conversation) to a cited answer built only from corpus sentences."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from qa.analyze import Analyzer
from qa.corpus import Passage

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

NO_ANSWER = "The documents do not contain an answer to this question."
NO_TERMS = "The question has no searchable words; ask about a person, place, event or number."


@dataclass(frozen=True)
class Query:
    weights: dict[str, float]
    terms: list[str]
    from_history: list[str]


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
    }


def answer_text(citations: list[dict]) -> str:
    """Quotes the best sentence, and the runner-up when it scores nearly as well, with markers."""
    if not citations:
        return NO_ANSWER
    quoted = [citations[0]]
    if (
        len(citations) > 1
        and citations[1]["score"] >= SECOND_SENTENCE_SHARE * citations[0]["score"]
    ):
        quoted.append(citations[1])
    return " ".join(f"{c['text']} [{c['n']}]" for c in quoted)


def answer_object(
    answer: str, citations: list[dict], query: Query, took_ms: float, abstained: bool
) -> dict:
    return {
        "answer": answer,
        "abstained": abstained,
        "citations": citations,
        "query": {"terms": query.terms, "from_history": query.from_history},
        "took_ms": round(took_ms, 3),
    }
