"""A question (and its conversation) as a query: weighted terms, and what else was searched."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from qa.answer.model import AliasNote, Continues, QueryReport, SpellingNote
from qa.ingest.passages import parse_passage_id
from qa.text.aliases import AliasGroup
from qa.text.analyze import Analyzer, tokens
from qa.text.lemmas import irregular_family
from qa.text.question import analyse

# Earlier questions of a conversation count, less than the new one, and less the older they are.
HISTORY_WEIGHT = 0.5
HISTORY_DECAY = 0.5
# The weight of the question's own form of a name, when it was searched by the corpus's usual one.
ALIAS_WEIGHT = 0.5
# The weight of an irregular form of a question's word (`drove` for `drive`, qa.text.lemmas), as a
# share of the word's own: the ranker counts the two as one term (see Terms.lead).
VARIANT_WEIGHT = 1.0


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
    # The terms of irregular forms of the question's words, each with the term it stands for.
    variants: dict[str, str] = field(default_factory=dict)

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
    content = analyse(question).content
    own = analyzer.terms(content)
    weights: dict[str, float] = dict(Counter(own))
    variants = irregular_variants(analyzer, content, weights)
    for variant, term in variants.items():
        weights[variant] = VARIANT_WEIGHT * weights[term]
    earlier: list[str] = []
    for age, turn in enumerate(reversed(history)):
        share = HISTORY_WEIGHT * HISTORY_DECAY**age
        for term in question_terms(analyzer, turn):
            weights[term] = weights.get(term, 0.0) + share
            earlier.append(term)
    own_set = set(own)
    from_history = [t for t in dict.fromkeys(earlier) if t not in own_set]
    return Query(weights, list(dict.fromkeys(own)), from_history, variants=variants)


def irregular_variants(analyzer: Analyzer, text: str, own: dict[str, float]) -> dict[str, str]:
    """The terms of the irregular forms that share a lemma with the text's words (`drove`,
    `driven` for `drive`), none of them `own` terms, each with the own term it stands for."""
    variants: dict[str, str] = {}
    for token in tokens(text):
        term = analyzer.word_terms(token)
        if len(term) != 1:  # a stopword, or a word the analyzer splits
            continue
        for form in irregular_family(token):
            for found in analyzer.word_terms(form):
                if found not in own and found not in variants:
                    variants[found] = term[0]
    return variants


def question_terms(analyzer: Analyzer, question: str) -> list[str]:
    return analyzer.terms(analyse(question).content)
