"""Strings numbered in order of first use, the same whichever processes read them.

Worker processes read a corpus's chunks, each chunk read whole by one of them and each worker's
chunks in corpus order. A worker numbers the strings it meets with one Coder from chunk to chunk,
and a chunk carries only the strings new to that coder, not every string it holds. Given the
chunks in corpus order, the parent's Decoder turns every coder's numbers into one numbering,
by first use in the whole corpus: the one a single process reading it all would give.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from dataclasses import dataclass
from itertools import compress, repeat

import numpy as np


def by_first_use(strings: list[str]) -> tuple[list[str], np.ndarray]:
    """The distinct strings in order of first use, and each string's number among them."""
    distinct = list(dict.fromkeys(strings))
    number = dict(zip(distinct, range(len(distinct)), strict=True))
    return distinct, np.fromiter(map(number.__getitem__, strings), np.int64, len(strings))


@dataclass(frozen=True)
class NewStrings:
    """The strings a coder numbered since it last told them, numbered `first`, `first + 1`..."""

    coder: str
    first: int
    strings: list[str]


class Coder:
    """Numbers strings from 0 in order of first use."""

    def __init__(self) -> None:
        # Unique among processes and their forks, for the Decoder that meets several coders.
        self.key = f"{os.getpid()}-{uuid.uuid4().hex}"
        self._numbers: dict[str, int] = {}
        self._strings: list[str] = []
        self._told = 0

    def numbers(self, distinct: list[str]) -> np.ndarray:
        """The numbers of distinct strings; those not met before get the next ones, in order."""
        # One lookup per string at C speed (a large dict's lookups are what this costs).
        found = np.fromiter(map(self._numbers.get, distinct, repeat(-1)), np.int32, len(distinct))
        unknown = found < 0
        if unknown.any():
            new = list(compress(distinct, unknown.tolist()))
            found[unknown] = np.arange(len(self._strings), len(self._strings) + len(new))
            self._numbers.update(zip(new, found[unknown].tolist(), strict=True))
            self._strings += new
        return found

    def new_strings(self) -> NewStrings:
        """The strings numbered since the last call (or since the start)."""
        new = NewStrings(self.key, self._told, self._strings[self._told :])
        self._told = len(self._strings)
        return new

    def all_strings(self) -> NewStrings:
        """Every string numbered, as if told from the start."""
        return NewStrings(self.key, 0, self._strings[:])


class Decoder:
    """One numbering, by first use, for the strings of several coders given in corpus order."""

    def __init__(self) -> None:
        self._all = Coder()
        self._maps: dict[str, np.ndarray] = {}

    def decode(self, new: NewStrings) -> np.ndarray:
        """The coder's numbers in the one numbering (an array indexed by the coder's numbers)."""
        known = self._maps.get(new.coder, np.zeros(0, np.int32))
        if len(known) != new.first:
            raise ValueError(f"strings of coder {new.coder} out of order")
        added = self._all.numbers(new.strings)
        self._maps[new.coder] = decoded = np.concatenate([known, added])
        return decoded

    def all_strings(self) -> NewStrings:
        """Every string met so far, by its number in the one numbering."""
        return self._all.all_strings()


@dataclass(frozen=True)
class Tally:
    """How often each of some strings was met, by the numbers of the coder that met them."""

    numbering: NewStrings
    numbers: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, strings: list[str], coder: Coder) -> Tally:
        # Counted first, in one pass at C speed, so that only distinct strings are numbered.
        counted = Counter(strings)
        numbers = coder.numbers(list(counted))
        counts = np.fromiter(counted.values(), np.int64, len(counted))
        return cls(coder.new_strings(), numbers, counts)


class Total:
    """How often each string was met in tallies added in corpus order, decoded as they come."""

    def __init__(self) -> None:
        self._decoder = Decoder()
        self._numbers: list[np.ndarray] = [np.zeros(0, np.int32)]
        self._counts: list[np.ndarray] = [np.zeros(0, np.int64)]

    def add(self, tally: Tally) -> None:
        self._numbers.append(self._decoder.decode(tally.numbering)[tally.numbers])
        self._counts.append(tally.counts)

    def counter(self) -> Counter[str]:
        """Every string met and how often, in order of first use."""
        strings = self._decoder.all_strings().strings
        totals = np.zeros(len(strings), np.int64)
        np.add.at(totals, np.concatenate(self._numbers), np.concatenate(self._counts))
        return Counter(dict(zip(strings, totals.tolist(), strict=True)))
