"""A BM25 index that gives exactly rank-bm25's BM25Okapi scores, weighed at query time.

BM25Okapi scores every document in a Python loop per query term. Here each term's postings
(the passages that hold it, ascending, and how often) are stored column by column (CSC arrays)
as small integers, and a query weighs only the postings of its terms,
idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)), with the corpus statistics (idf,
average length) of the index: its cost follows the postings it reads, not the corpus. Every array
is saved as a .npy file and loaded memory-mapped, the vocabulary included.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
from scipy import sparse

from qa.common import arrays
from qa.common.arrays import compact
from qa.common.memo import Memo
from qa.common.vocabulary import LOOKUPS, Vocabulary
from qa.index.counting import TermCounts

PREFIX = "bm25-"
# The weighed postings of a term in at most this many passages are remembered (see Memo): for
# those, numpy's calls cost more than the arithmetic; a common term's are weighed each time.
REMEMBERED_POSTINGS = 256
ARRAYS = ("params", "indptr", "indices", "tf", "doc-len", "hashes", "offsets", "terms")

Query = Mapping[str, float] | Iterable[str]


class BM25Index:
    """BM25Okapi over lists of terms: `index`, `scores`, `retrieve`, `save`, `load`."""

    def __init__(self, k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25) -> None:
        self.k1, self.b, self.epsilon = k1, b, epsilon
        self.vocabulary, _ = Vocabulary.build([])
        self.idf = np.zeros(0)
        self.doc_len = np.zeros(0, dtype=np.int32)
        self.indptr = np.zeros(1, dtype=np.int32)
        self.indices = np.zeros(0, dtype=np.int32)
        self.tf = np.zeros(0, dtype=np.uint8)
        self.avgdl, self._norm = 1.0, np.zeros(0)
        # Each thread adds scores up in its own buffer, kept between queries and reset after.
        self._local = threading.local()
        self._weighed = Memo(self._weigh, LOOKUPS)

    @property
    def size(self) -> int:
        return len(self.doc_len)

    def index(self, corpus: Iterable[list[str]]) -> BM25Index:
        return self.index_counts(TermCounts.of(corpus))

    def index_counts(self, counts: TermCounts) -> BM25Index:
        """Indexes passages already counted (see TermCounts)."""
        self.vocabulary, column = Vocabulary.build(counts.terms)
        self.doc_len = compact(counts.lengths)
        self._set_postings(counts.distinct, column.astype(np.int32)[counts.term_ids], counts.counts)
        return self

    def _set_postings(self, distinct: np.ndarray, cols: np.ndarray, tf: np.ndarray) -> None:
        """Sets the postings from postings listed passage by passage, `distinct` of each."""
        n, v = self.size, len(self.vocabulary)
        indptr = np.concatenate([[0], np.cumsum(distinct, dtype=np.int64)])
        # Rows are in order, so this is CSR; scipy's conversion to CSC is one linear pass.
        # A term is rarely in a sentence more than 255 times: a byte per count, else two or four.
        postings = sparse.csr_matrix((compact(tf), cols, indptr), shape=(n, v)).tocsc()
        self.indptr, self.indices, self.tf = (
            compact(postings.indptr),
            postings.indices,
            postings.data,
        )
        self._weigh_terms()

    def _weigh_terms(self) -> None:
        """The statistics a query weighs postings with: every term's idf, the average length."""
        n, v = self.size, len(self.vocabulary)
        df = np.diff(self.indptr).astype(float)
        # The same operations, in the same order, as BM25Okapi._calc_idf.
        idf = np.log(n - df + 0.5) - np.log(df + 0.5)
        if v:
            floor = self.epsilon * (idf.sum() / v)
            idf = np.where(idf < 0, floor, idf)
        self.idf = idf
        self.avgdl = _mean_length(self.doc_len)
        # BM25's length normalisation of every passage, as BM25Okapi.get_scores computes it.
        self._norm = self.k1 * (1 - self.b + self.b * self.doc_len / self.avgdl)
        self._weighed.clear()

    def postings(self, column: int) -> tuple[np.ndarray, np.ndarray]:
        """A term's passages, ascending, and its BM25 weight in each (arrays not to be changed)."""
        if self.indptr[column + 1] - self.indptr[column] <= REMEMBERED_POSTINGS:
            return self._weighed[column]
        return self._weigh(column)

    def _weigh(self, column: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.indptr[column : column + 2].tolist()
        rows, tf = self.indices[lo:hi], self.tf[lo:hi].astype(np.float64)
        # The same operations, in the same order, as BM25Okapi.get_scores, so the same floats.
        weights = self.idf[column] * (tf * (self.k1 + 1) / (tf + self._norm[rows]))
        weights.flags.writeable = False
        return rows, weights

    def document_frequency(self, term: str) -> int:
        """How many passages hold the term."""
        column = self.vocabulary.get(term)
        return 0 if column is None else int(self.indptr[column + 1] - self.indptr[column])

    def _postings(self, query: Query) -> list[tuple[np.ndarray, np.ndarray, float]]:
        """(rows, weights, query weight) of each query term found, in query order."""
        weights = query if isinstance(query, Mapping) else Counter(query)
        postings = []
        for term, weight in weights.items():
            column = self.vocabulary.get(term)
            if column is None or not weight:
                continue
            postings.append((*self.postings(column), weight))
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
                PREFIX + "tf": self.tf,
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
        index.doc_len = a["doc-len"]
        index.indptr, index.indices, index.tf = a["indptr"], a["indices"], a["tf"]
        v = len(index.vocabulary)
        if not (
            v == len(a["offsets"]) - 1 == len(index.indptr) - 1
            and index.indptr[-1] == len(index.indices) == len(index.tf)
            and a["offsets"][-1] == len(a["terms"])
        ):
            raise ValueError("index arrays disagree")
        index._weigh_terms()
        return index


def _mean_length(doc_len: np.ndarray) -> float:
    """BM25's average passage length (1 for no passage, where nothing is weighed)."""
    return doc_len.sum() / len(doc_len) if len(doc_len) else 1.0


def _load(folder: Path) -> dict[str, np.ndarray]:
    loaded = arrays.load(folder, [PREFIX + name for name in ARRAYS])
    return {name: loaded[PREFIX + name] for name in ARRAYS}


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
