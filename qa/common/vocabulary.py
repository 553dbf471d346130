"""A vocabulary of strings held in arrays ordered by a 64-bit hash, saved and memory-mapped."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import pairwise

import numpy as np

from qa.common.arrays import compact
from qa.common.memo import Memo

# Strings whose lookup is remembered: the terms of a few hundred questions.
LOOKUPS = 4096
# Vocabulary hashes (see _hash): FNV's 64-bit prime for a base, odd so that no digit is lost.
HASH_BASE = 0x100000001B3
HASH_MASK = (1 << 64) - 1


class Vocabulary(Mapping[str, int]):
    """Term -> column, held in arrays (no Python object per term) ordered by a 64-bit hash.

    A lookup is a binary search for the term's hash, then a byte comparison with the stored term.
    """

    def __init__(self, hashes: np.ndarray, offsets: np.ndarray, terms: np.ndarray) -> None:
        self.hashes, self.offsets, self.terms = hashes, offsets, terms
        # Questions ask about the same terms again and again: their columns are remembered.
        self._looked_up = Memo(self._search, LOOKUPS)

    @classmethod
    def build(cls, terms: Sequence[str]) -> tuple[Vocabulary, np.ndarray]:
        """The vocabulary of distinct terms, and the column it gives each term, in given order."""
        data, lengths = _packed([t.encode() for t in terms])
        hashes = _hashes(data, lengths)
        order = np.argsort(hashes, kind="stable")
        column = np.empty(len(terms), np.int64)
        column[order] = np.arange(len(terms))
        # The terms' bytes in hash order: each stored byte's place among the given ones.
        offsets = np.concatenate([[0], np.cumsum(lengths[order])])
        starts = np.cumsum(lengths) - lengths
        moved = np.repeat(starts[order] - offsets[:-1], lengths[order]) + np.arange(len(data))
        return cls(hashes[order], compact(offsets), data[moved]), column

    def get(self, term: str, default: int | None = None) -> int | None:
        column = self._looked_up[term]
        return default if column is None else column

    def _search(self, term: str) -> int | None:
        key = term.encode()
        digest = _hash(key)
        i = int(np.searchsorted(self.hashes, np.uint64(digest)))
        while i < len(self.hashes) and int(self.hashes[i]) == digest:
            if self._bytes(i) == key:
                return i
            i += 1
        return None

    def __getitem__(self, term: str) -> int:
        column = self.get(term)
        if column is None:
            raise KeyError(term)
        return column

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.get(term) is not None

    def __len__(self) -> int:
        return len(self.hashes)

    def __iter__(self) -> Iterator[str]:
        return map(self.term, range(len(self)))

    def term_bytes(self) -> list[bytes]:
        """Every term's UTF-8 bytes, by column."""
        data, bounds = self.terms.tobytes(), self.offsets.tolist()
        return [data[a:b] for a, b in pairwise(bounds)]

    def term(self, column: int) -> str:
        return self._bytes(column).decode("utf-8")

    def _bytes(self, column: int) -> bytes:
        start, end = self.offsets[column : column + 2].tolist()
        return self.terms[start:end].tobytes()


def _hash(term: bytes) -> int:
    """A 64-bit hash that is the same in every process and run (unlike hash()): the bytes, then
    the length, as digits of a number in base HASH_BASE, modulo 2**64. Terms with equal hashes
    are told apart by their bytes: a corpus made to collide would only slow its own lookups.
    """
    value = 0
    for digit in (*term, len(term)):
        value = (value * HASH_BASE + digit) & HASH_MASK
    return value


def _packed(encoded: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """The byte strings one after the other, and the length of each."""
    lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
    return np.frombuffer(b"".join(encoded), np.uint8), lengths


def _hashes(data: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """_hash of every term at once (see _packed): a vocabulary has a million terms."""
    hashes = np.zeros(len(lengths), np.uint64)
    if not len(data):
        return hashes
    ends = np.cumsum(lengths)
    # Each byte times the base to the power of the digits after it in its term (wrapping around
    # 2**64 as _hash's mask does), summed term by term, then the length as the last digit.
    after = np.repeat(ends, lengths) - np.arange(len(data))
    digits = data.astype(np.uint64) * _powers(int(lengths.max()) + 1)[after]
    nonempty = lengths > 0
    hashes[nonempty] = np.add.reduceat(digits, (ends - lengths)[nonempty])
    return hashes + lengths.astype(np.uint64)


def _powers(n: int) -> np.ndarray:
    """HASH_BASE ** k modulo 2**64, for k below n."""
    powers = [1]
    for _ in range(n - 1):
        powers.append(powers[-1] * HASH_BASE & HASH_MASK)
    return np.array(powers, np.uint64)
