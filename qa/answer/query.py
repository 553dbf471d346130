"""A question (and its conversation) as a query: weighted terms, and what else was searched."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from qa.answer.model import AliasNote, Continues, QueryReport, SpellingNote
from qa.ingest.passages import parse_passage_id
from qa.text.aliases import AliasGroup
from qa.text.analyze import Analyzer
from qa.text.question import analyse

# Earlier questions of a conversation count, less than the new one, and less the older they are.
HISTORY_WEIGHT = 0.5
HISTORY_DECAY = 0.5
# The weight of the question's own form of a name, when it was searched by the corpus's usual one.
ALIAS_WEIGHT = 0.5


@dataclass(frozen=True)
class Query:
    weights: dict[str, float]
    terms: list[str]
    from_history: list[str]
    # What the answer's `query` section also reports: aliases used, spellings suggested, and
    # the passage a "tell me more" continues from.
    aliases: list[AliasNote] = field(default_factory=list)
    spelling: list[SpellingNote] = field(default_factory=list)
    continues: Continues | None = None

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
            others = [n for n in group.names() if n != form]
            defined_in = group.sources[group.forms[0]]
            document, _ = parse_passage_id(defined_in)
            reported.append(AliasNote(form, others, defined_in, document))
        return replace(self, weights=weights, aliases=reported)

    def report(self) -> QueryReport:
        return QueryReport(
            self.terms, self.from_history, self.aliases, self.spelling, self.continues
        )


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
    return analyzer.terms(analyse(question).content)
