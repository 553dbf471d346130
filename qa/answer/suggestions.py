"""Questions to offer in an empty chat, drawn from the corpus and checked by answering them."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cached_property

import numpy as np

from qa.answer.browse import Library
from qa.answer.model import Answer
from qa.ingest.corpus import Document
from qa.text.analyze import Analyzer

SUGGESTED_FIELDS = {
    "Result": "What was the result of the {title}?",
    "Place": "Where did the {title} take place?",
    "Date": "What was the date of the {title}?",
    "Casualties": "What were the casualties of the {title}?",
}
# Suggestions are drawn from the first documents only, and checked by answering them: those
# whose answer holds at least MIN_NEW_TERMS terms the question does not come first.
SUGGESTION_DOCUMENTS = 50
MAX_SUGGESTIONS = 8
MIN_NEW_TERMS = 3
UNSUGGESTED_SECTIONS = {"see also", "references", "external links", "notes", "further reading"}


class Suggestions:
    """Up to MAX_SUGGESTIONS questions, a document at a time, best answered first.

    `ask` answers a question with one citation.
    """

    def __init__(self, library: Library, ask: Callable[[str], Answer], analyzer: Analyzer) -> None:
        self.library, self._ask, self.analyzer = library, ask, analyzer

    def first(self, n: int) -> list[str]:
        return self._all[:n]

    @cached_property
    def _all(self) -> list[str]:
        documents = self.library.corpus.documents[:SUGGESTION_DOCUMENTS]
        per_document = [self._for(document) for document in documents]
        picked: list[str] = []
        for round_ in range(max((len(s) for s in per_document), default=0)):
            picked.extend(s[round_] for s in per_document if round_ < len(s))
        # Questions answered with more than their own words first, then any answered at all.
        grades: dict[int, list[str]] = {2: [], 1: []}
        for question in list(dict.fromkeys(picked))[: 3 * MAX_SUGGESTIONS]:
            grade = self._grade(question)
            if grade:
                grades[grade].append(question)
        return (grades[2] + grades[1])[:MAX_SUGGESTIONS]

    def _grade(self, question: str) -> int:
        """0: not answered; 1: answered with little beyond its own words (a title); 2: answered."""
        result = self._ask(question)
        if result.abstained:
            return 0
        asked = set(self.analyzer.terms(question))
        said = set(self.analyzer.terms(result.citations[0].text))
        return 2 if len(said - asked) >= MIN_NEW_TERMS else 1

    def _for(self, document: Document) -> list[str]:
        title = document.title
        out = [f"What was the {title}?"]
        table = self.library.corpus.table
        codes = np.unique(table.columns["label"][self.library.rows(document.id)])
        labels = [table.strings[c] for c in codes.tolist() if c >= 0]
        out += [
            SUGGESTED_FIELDS[label].format(title=title)
            for label in SUGGESTED_FIELDS
            if label in labels
        ]
        out += [
            f"What happened in the {_without_article(section).lower()} of the {title}?"
            for section in document.sections
            if section.lower() not in UNSUGGESTED_SECTIONS
        ]
        return out


def _without_article(name: str) -> str:
    """`The offensive` -> `offensive`, for a name that a sentence gives its own article."""
    return re.sub(r"^(?:the|a|an)\s+", "", name, flags=re.IGNORECASE)
