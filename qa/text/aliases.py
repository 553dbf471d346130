"""Short names that documents define for themselves: `Syriac Military Council (SMC)`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from qa.ingest.passages import PassageTable
from qa.text.analyze import Analyzer, fold

# An acronym-like form: mostly capitals, maybe a digit or a lower-case letter (`ISIL`, `CJTF–OIR`
# is not one, `YPG`, `HgO` is not: it has too few capitals).
ACRONYM = r"[A-Z][A-Za-z0-9]{0,2}[A-Z0-9][A-Za-z0-9]{0,6}|[A-Z]{2}"
DEFINITION = re.compile(rf"\((?P<forms>(?:{ACRONYM})(?:\s*(?:,|or|/)\s*(?:{ACRONYM}))*)\)")
# Where a definition may start: a parenthesis and a capital, found fast in the corpus's bytes.
OPENING = re.compile(rb"\([A-Z]")
WORD = re.compile(r"[\w'’-]+")
# Words a long name may contain that its acronym skips (`Islamic State of Iraq and the Levant`).
CONNECTORS = {"of", "the", "and", "for", "de", "du", "del", "la", "le", "in", "on", "at", "&"}
MAX_LONG_WORDS = 10


@dataclass(eq=False)
class AliasGroup:
    """One entity's long name and the short forms the corpus gives it."""

    long: str
    forms: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    def names(self) -> list[str]:
        return [self.long, *self.forms]


def mine_table(table: PassageTable) -> list[AliasGroup]:
    """Alias groups of a whole corpus."""
    return mine((table[row].id, table[row].text) for row in definition_rows(table).tolist())


def definition_rows(table: PassageTable) -> np.ndarray:
    """The rows whose text may define an alias (it opens a bracket on a capital), ascending."""
    # Found in every passage's text end to end: an opening that straddles two passages adds a
    # row without a definition, which changes nothing.
    data = memoryview(np.ascontiguousarray(table.columns["text"]))
    return table.rows_at([m.start() for m in OPENING.finditer(data)]).astype(np.int32)


def as_json(groups: list[AliasGroup]) -> list[dict]:
    return [{"long": g.long, "forms": g.forms, "sources": g.sources} for g in groups]


def from_json(rows: list[dict]) -> list[AliasGroup]:
    return [AliasGroup(r["long"], list(r["forms"]), dict(r["sources"])) for r in rows]


def mine(passages: Iterable[tuple[str, str]]) -> list[AliasGroup]:
    """Alias groups from (passage id, text) pairs, in order of first definition."""
    groups: dict[str, AliasGroup] = {}
    by_form: dict[str, AliasGroup] = {}
    for passage_id, text in passages:
        for long, forms in definitions(text):
            group = by_form.get(forms[0]) or groups.setdefault(fold(long), AliasGroup(long))
            for form in forms:
                if form not in group.forms:
                    group.forms.append(form)
                    group.sources[form] = passage_id
                by_form.setdefault(form, group)
    return list(dict.fromkeys(by_form.values()))  # identity: a group once, first seen first


def definitions(text: str) -> list[tuple[str, list[str]]]:
    """(long name, [short forms]) for each parenthesised definition whose first form spells it."""
    found = []
    for match in DEFINITION.finditer(text):
        forms = [f for f in re.split(r"\s*(?:,|\bor\b|/)\s*", match.group("forms")) if f]
        long = _long_name(text[: match.start()], forms[0])
        if long:
            found.append((long, forms))
    return found


def _long_name(before: str, acronym: str) -> str | None:
    """The words just before `before`'s end whose initials spell `acronym`, or None."""
    words = list(WORD.finditer(before))[-MAX_LONG_WORDS:]
    letters = [c for c in acronym.upper() if c.isalpha()]
    if len(letters) < 2:
        return None
    i = len(words) - 1
    start = None
    for letter in reversed(letters):
        while i >= 0 and words[i].group().lower() in CONNECTORS:
            i -= 1
        if i < 0 or words[i].group()[0].upper() != letter:
            return None
        start = words[i].start()
        i -= 1
    long = before[start:].strip()
    # The name must be a name: its first and last words capitalised.
    return long if long[0].isupper() and long.split()[-1][0].isupper() else None


class AliasTable:
    """Finds the aliases a question uses and what they stand for.

    `frequency` tells how many passages hold a term: the name the corpus uses most is the one
    to search for.
    """

    def __init__(
        self, groups: list[AliasGroup], analyzer: Analyzer, frequency: Callable[[str], int]
    ) -> None:
        self.groups = groups
        self._analyzer = analyzer
        self._frequency = frequency
        self._patterns = [
            (group, [(name, _pattern(name)) for name in group.names()]) for group in groups
        ]

    def used(self, question: str) -> list[tuple[str, AliasGroup]]:
        """(the form the question used, its group) for each alias group the question names."""
        hits = []
        for group, patterns in self._patterns:
            for name, pattern in patterns:
                if pattern.search(question):
                    hits.append((name, group))
                    break
        return hits

    def usual_name(self, group: AliasGroup) -> str:
        """The group's name that the most passages use (a name counts as its rarest term)."""

        def uses(name: str) -> int:
            return min((self._frequency(t) for t in self._analyzer.terms(name)), default=0)

        return max(group.names(), key=uses)

    def terms(self, name: str) -> list[str]:
        return self._analyzer.terms(name)


def _pattern(name: str) -> re.Pattern:
    # Short forms are matched with their case (`IS` is not `is`); long names without it.
    flags = 0 if re.fullmatch(ACRONYM, name) else re.IGNORECASE
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", flags)


def replace_name(question: str, form: str, name: str) -> str:
    """The question with its first use of `form` written as `name`."""
    return _pattern(form).sub(lambda _: name, question, count=1)
