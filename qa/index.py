"""A BM25 index that gives exactly rank-bm25's BM25Okapi scores from precomputed term weights.

BM25Okapi scores every document in a Python loop per query term. Here each term's column of
weights idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)) is computed once at
indexing time and stored column by column (CSC arrays), so a query only adds up the postings of
its terms into a reusable score buffer: its cost follows the postings it reads, not the corpus.
Every array is saved as a .npy file and loaded memory-mapped, the vocabulary included.
"""

from __future__ import annotations

import math
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import compress, repeat
from pathlib import Path

import numpy as np
from scipy import sparse

from qa import arrays
from qa.codes import Coder, Decoder, NewStrings, by_first_use
from qa.memo import Memo

PREFIX = "bm25-"
# Terms whose vocabulary lookup is remembered: those of a few hundred questions.
LOOKUPS = 4096
# Vocabulary hashes (see _hash): FNV's 64-bit prime for a base, odd so that no digit is lost.
HASH_BASE = 0x100000001B3
HASH_MASK = (1 << 64) - 1
ARRAYS = ("params", "indptr", "indices", "data", "idf", "doc-len", "hashes", "offsets", "terms")

Query = Mapping[str, float] | Iterable[str]
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

    Parts numbered by one coder come in the order it numbered them (see qa.codes).
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
        return cls(hashes[order], offsets.astype(np.int64), data[moved]), column

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

    def term(self, column: int) -> str:
        return self._bytes(column).decode("utf-8")

    def _bytes(self, column: int) -> bytes:
        start, end = self.offsets[column : column + 2].tolist()
        return self.terms[start:end].tobytes()


class BM25Index:
    """BM25Okapi over lists of terms: `index`, `scores`, `retrieve`, `save`, `load`."""

    def __init__(self, k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25) -> None:
        self.k1, self.b, self.epsilon = k1, b, epsilon
        self.vocabulary, _ = Vocabulary.build([])
        self.idf = np.zeros(0)
        self.doc_len = np.zeros(0, dtype=np.int32)
        self.indptr = np.zeros(1, dtype=np.int32)
        self.indices = np.zeros(0, dtype=np.int32)
        self.data = np.zeros(0)
        # Each thread adds scores up in its own buffer, kept between queries and reset after.
        self._local = threading.local()

    @property
    def size(self) -> int:
        return len(self.doc_len)

    def index(self, corpus: Iterable[list[str]]) -> BM25Index:
        return self.index_counts(TermCounts.of(corpus))

    def index_counts(self, counts: TermCounts) -> BM25Index:
        """Indexes passages already counted (see TermCounts)."""
        self.vocabulary, column = Vocabulary.build(counts.terms)
        self.doc_len = counts.lengths
        self._weigh(counts.distinct, column.astype(np.int32)[counts.term_ids], counts.counts)
        return self

    def _weigh(self, distinct: np.ndarray, cols: np.ndarray, tf: np.ndarray) -> None:
        """Sets the weights from postings listed passage by passage, `distinct` of each."""
        n, v = self.size, len(self.vocabulary)
        df = np.bincount(cols, minlength=v).astype(float)
        # The same operations, in the same order, as BM25Okapi._calc_idf and get_scores.
        idf = np.log(n - df + 0.5) - np.log(df + 0.5)
        if v:
            floor = self.epsilon * (idf.sum() / v)
            idf = np.where(idf < 0, floor, idf)
        self.idf = idf
        avgdl = self.doc_len.sum() / n if n else 1.0
        # Each passage's length term once, repeated for its postings: the same value each time.
        norm = np.repeat(self.k1 * (1 - self.b + self.b * self.doc_len / avgdl), distinct)
        data = idf[cols] * (tf * (self.k1 + 1) / (tf + norm))
        indptr = np.concatenate([[0], np.cumsum(distinct, dtype=np.int64)])
        # Rows are in order, so this is CSR; scipy's conversion to CSC is one linear pass.
        weights = sparse.csr_matrix((data, cols, indptr), shape=(n, v)).tocsc()
        self.indptr, self.indices, self.data = weights.indptr, weights.indices, weights.data

    def document_frequency(self, term: str) -> int:
        """How many passages hold the term."""
        column = self.vocabulary.get(term)
        return 0 if column is None else int(self.indptr[column + 1] - self.indptr[column])

    def term_ids(self, terms: Iterable[str]) -> list[int]:
        columns = (self.vocabulary.get(t) for t in terms)
        return [c for c in columns if c is not None]

    def _postings(self, query: Query) -> list[tuple[np.ndarray, np.ndarray, float]]:
        """(rows, weights, query weight) of each query term found, in query order."""
        weights = query if isinstance(query, Mapping) else Counter(query)
        postings = []
        for term, weight in weights.items():
            column = self.vocabulary.get(term)
            if column is None or not weight:
                continue
            lo, hi = self.indptr[column : column + 2].tolist()
            postings.append((self.indices[lo:hi], self.data[lo:hi], weight))
        return postings

    def scores(self, query: Query) -> np.ndarray:
        """Every passage's score; a mapping weighs each term, a list counts repeated terms."""
        scores = np.zeros(self.size)
        for rows, data, weight in self._postings(query):
            scores[rows] += weight * data
        return scores

    def retrieve(
        self, query: Query, k: int = 10, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ids and scores of the k best passages with a positive score, best first.

        Only the postings of the query's terms are read: the scores add up in a buffer that is
        cleared again at those rows, so no step costs in proportion to the whole corpus.
        """
        postings = self._postings(query)
        if not postings:
            return np.zeros(0, np.intp), np.zeros(0)
        touched = np.concatenate([rows for rows, _, _ in postings])
        buffer = self._buffer()
        try:
            for rows, data, weight in postings:
                buffer[rows] += weight * data
            scores = buffer[touched]
        finally:
            buffer[touched] = 0.0
        keep = scores > 0
        if mask is not None:
            keep &= mask[touched]
        # A row is in `touched` once for each query term it holds, so the k * terms best entries
        # hold k distinct rows at least, and so every row as good as the k-th best: only those
        # few need to be made distinct.
        rows, scores = _at_least_as_good(touched[keep], scores[keep], k * len(postings))
        rows, first = np.unique(rows, return_index=True)
        return _best(rows, scores[first], k)

    def _buffer(self) -> np.ndarray:
        local = self._local
        if getattr(local, "buffer", None) is None or len(local.buffer) != self.size:
            local.buffer = np.zeros(self.size)
        return local.buffer

    def max_idf(self) -> float:
        """The idf of a term found nowhere, as BM25Okapi's formula would give it."""
        return math.log(self.size + 0.5) - math.log(0.5)

    def save(self, folder: Path) -> list[str]:
        """Writes the index as .npy files and returns their names."""
        vocabulary = self.vocabulary
        return arrays.save(
            folder,
            {
                PREFIX + "params": np.array([self.k1, self.b, self.epsilon]),
                PREFIX + "indptr": self.indptr,
                PREFIX + "indices": self.indices,
                PREFIX + "data": self.data,
                PREFIX + "idf": self.idf,
                PREFIX + "doc-len": self.doc_len,
                PREFIX + "hashes": vocabulary.hashes,
                PREFIX + "offsets": vocabulary.offsets,
                PREFIX + "terms": vocabulary.terms,
            },
        )

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        """The saved index, memory-mapped; ValueError or OSError when it is damaged."""
        a = _load(folder)
        k1, b, epsilon = a["params"].tolist()
        index = cls(k1, b, epsilon)
        index.vocabulary = Vocabulary(a["hashes"], a["offsets"], a["terms"])
        index.idf, index.doc_len = a["idf"], a["doc-len"]
        index.indptr, index.indices, index.data = a["indptr"], a["indices"], a["data"]
        v = len(index.vocabulary)
        if not (
            len(index.idf) == v == len(a["offsets"]) - 1 == len(index.indptr) - 1
            and index.indptr[-1] == len(index.indices) == len(index.data)
            and a["offsets"][-1] == len(a["terms"])
        ):
            raise ValueError("index arrays disagree")
        return index


def _load(folder: Path) -> dict[str, np.ndarray]:
    loaded = arrays.load(folder, [PREFIX + name for name in ARRAYS])
    return {name: loaded[PREFIX + name] for name in ARRAYS}


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


def _int32(*columns: np.ndarray) -> list[np.ndarray]:
    return [np.asarray(c, np.int32) for c in columns]


def _at_least_as_good(
    rows: np.ndarray, scores: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The entries that score at least as well as the k-th best one (ties make them more)."""
    if len(rows) <= k:
        return rows, scores
    kth = np.partition(scores, len(scores) - k)[len(scores) - k]
    keep = scores >= kth
    return rows[keep], scores[keep]


def _best(rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best distinct rows by score, ties to the earlier row, so answers are stable."""
    rows, scores = _at_least_as_good(rows, scores, k)
    order = np.lexsort((rows, -scores))[:k]
    return rows[order].astype(np.intp), scores[order]
