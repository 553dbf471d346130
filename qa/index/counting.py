"""Counting the terms of passages at indexing time, in compact arrays, part after part."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from itertools import compress, repeat

import numpy as np

from qa.common.codes import Coder, Decoder, NewStrings, by_first_use

# TermCounter's numbers of a token that is no term, and of a token not met before.
NO_TERM = -1
UNKNOWN = -2
# TermCounts' arrays, in the order it takes them.
COLUMNS = ("lengths", "distinct", "term_ids", "counts")


class TermCounts:
    """Each passage's distinct terms and their counts, in compact arrays: what BM25 needs.

    A Coder numbers the terms: `numbering` names it and holds the terms it numbered first in
    these passages. Counts made at once (`of`, `concat`) number from 0, so their `terms` are all
    their terms; a chunk read by a worker tells only the terms new to its TermCounter's coder.
    """

    def __init__(
        self,
        numbering: NewStrings,
        lengths: np.ndarray,
        distinct: np.ndarray,
        term_ids: np.ndarray,
        counts: np.ndarray,
    ) -> None:
        self.numbering = numbering
        self.terms = numbering.strings  # the terms numbered from numbering.first on
        self.lengths = lengths  # terms per passage
        self.distinct = distinct  # distinct terms per passage
        self.term_ids = term_ids  # each passage's distinct terms, passage after passage
        self.counts = counts  # how often each of those is in its passage

    @classmethod
    def of(cls, corpus: Iterable[list[str]]) -> TermCounts:
        """The counts of passages given as lists of (non-empty) terms, numbered from 0."""
        return TermCounter(list).counts(corpus)

    @classmethod
    def concat(cls, parts: Iterable[TermCounts]) -> TermCounts:
        """The parts' passages one after the other, in one numbering of their terms."""
        joined = JoinedCounts()
        for part in parts:
            joined.add(part)
        return joined.counts()


class TermCounter:
    """Counts the terms of passages given as tokens, part after part, one coder numbering terms.

    Each distinct token is made a term once and remembered with the term's number: a token then
    costs one lookup, where lists of terms would cost three (its stem, its term's number in the
    part, then in the coder, whose dict of a million terms misses the CPU's caches).
    """

    def __init__(self, terms: Callable[[list[str]], list[str]]) -> None:
        self._terms = terms  # the term of each of some distinct tokens, "" for a token that is none
        self.coder = Coder()
        self._numbers: dict[str, int] = {}

    def counts(self, corpus: Iterable[list[str]]) -> TermCounts:
        """The counts of passages given as lists of tokens; only their new terms are told."""
        flat: list[str] = []
        lengths = array("i")
        for tokens in corpus:
            flat += tokens
            lengths.append(len(tokens))
        numbers = np.fromiter(map(self._numbers.get, flat, repeat(UNKNOWN)), np.int64, len(flat))
        unknown = numbers == UNKNOWN
        if unknown.any():
            numbers[unknown] = self._learn(list(compress(flat, unknown.tolist())))
        n = len(lengths)
        rows = np.repeat(np.arange(n, dtype=np.int64), np.frombuffer(lengths, np.intc))
        found = numbers != NO_TERM
        rows, numbers = rows[found], numbers[found]
        per_passage = np.bincount(rows, minlength=n)
        # Counted with numbers of these passages' own, by first use here, so a passage's terms
        # come in the same order whichever coder numbered the passages before.
        used, first, ids = np.unique(numbers, return_index=True, return_inverse=True)
        by_first = np.argsort(first)
        own = np.empty_like(by_first)
        own[by_first] = np.arange(len(by_first))
        v = max(len(used), 1)
        # One sort counts every (passage, term) pair at once, instead of a Counter per passage.
        pairs, counts = np.unique(rows * v + own[ids], return_counts=True)
        rows, term_ids = np.divmod(pairs, v)
        distinct = np.bincount(rows, minlength=n)
        return TermCounts(
            self.coder.new_strings(),
            *_int32(per_passage, distinct, used[by_first][term_ids], counts),
        )

    def _learn(self, tokens: list[str]) -> list[int]:
        """The numbers of tokens met for the first time, remembered; new terms by first use."""
        new = list(dict.fromkeys(tokens))
        terms = self._terms(new)
        is_term = list(map(bool, terms))
        numbers = np.full(len(new), NO_TERM, np.int64)
        distinct, ids = by_first_use(list(compress(terms, is_term)))
        numbers[is_term] = self.coder.numbers(distinct)[ids]
        learned = dict(zip(new, numbers.tolist(), strict=True))
        self._numbers.update(learned)
        return list(map(learned.__getitem__, tokens))


class JoinedCounts:
    """Term counts joined part after part as they come, in one numbering of their terms.

    Parts numbered by one coder come in the order it numbered them (see qa.common.codes).
    """

    def __init__(self) -> None:
        self._decoder = Decoder()
        self._parts = [TermCounts.of([])]

    def add(self, part: TermCounts) -> None:
        term_ids = self._decoder.decode(part.numbering)[part.term_ids]
        self._parts.append(
            TermCounts(part.numbering, part.lengths, part.distinct, term_ids, part.counts)
        )

    def counts(self) -> TermCounts:
        parts = self._parts
        return TermCounts(
            self._decoder.all_strings(),
            *(np.concatenate([getattr(p, name) for p in parts]) for name in COLUMNS),
        )


def _int32(*columns: np.ndarray) -> list[np.ndarray]:
    return [np.asarray(c, np.int32) for c in columns]
