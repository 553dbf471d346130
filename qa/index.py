"""A BM25 index that gives exactly rank-bm25's BM25Okapi scores from precomputed term weights.

BM25Okapi scores every document in a Python loop per query term. Here each term's column of
weights idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)) is computed once at
indexing time and stored as a sparse matrix, so a query only adds up the columns of its terms.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
from scipy import sparse

ARRAYS = "bm25.npz"
VOCABULARY = "vocabulary.json"


class BM25Index:
    """BM25Okapi over lists of terms: `index`, `scores`, `retrieve`, `save`, `load`."""

    def __init__(self, k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25) -> None:
        self.k1, self.b, self.epsilon = k1, b, epsilon
        self.vocabulary: dict[str, int] = {}
        self.idf = np.zeros(0)
        self.doc_len = np.zeros(0, dtype=np.int32)
        self.weights = sparse.csc_matrix((0, 0))

    @property
    def size(self) -> int:
        return len(self.doc_len)

    def index(self, corpus: Iterable[list[str]]) -> BM25Index:
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[int] = []
        lengths: list[int] = []
        vocabulary = self.vocabulary = {}
        for row, terms in enumerate(corpus):
            lengths.append(len(terms))
            for term, tf in Counter(terms).items():
                rows.append(row)
                cols.append(vocabulary.setdefault(term, len(vocabulary)))
                tfs.append(tf)
        self.doc_len = np.asarray(lengths, dtype=np.int32)
        self._weigh(np.asarray(rows, np.int64), np.asarray(cols, np.int64), np.asarray(tfs, float))
        return self

    def _weigh(self, rows: np.ndarray, cols: np.ndarray, tf: np.ndarray) -> None:
        n, v = self.size, len(self.vocabulary)
        df = np.bincount(cols, minlength=v).astype(float)
        # The same operations, in the same order, as BM25Okapi._calc_idf and get_scores.
        idf = np.log(n - df + 0.5) - np.log(df + 0.5)
        if v:
            floor = self.epsilon * (idf.sum() / v)
            idf = np.where(idf < 0, floor, idf)
        self.idf = idf
        avgdl = self.doc_len.sum() / n if n else 1.0
        norm = self.k1 * (1 - self.b + self.b * self.doc_len[rows] / avgdl)
        data = idf[cols] * (tf * (self.k1 + 1) / (tf + norm))
        self.weights = sparse.csc_matrix((data, (rows, cols)), shape=(n, v))

    def term_ids(self, terms: Iterable[str]) -> list[int]:
        return [self.vocabulary[t] for t in terms if t in self.vocabulary]

    def scores(self, query: Mapping[str, float] | Iterable[str]) -> np.ndarray:
        """Every passage's score; a mapping weighs each term, a list counts repeated terms."""
        weights = query if isinstance(query, Mapping) else Counter(query)
        scores = np.zeros(self.size)
        w = self.weights
        for term, weight in weights.items():
            col = self.vocabulary.get(term)
            if col is None or not weight:
                continue
            lo, hi = w.indptr[col], w.indptr[col + 1]
            scores[w.indices[lo:hi]] += weight * w.data[lo:hi]
        return scores

    def retrieve(
        self,
        query: Mapping[str, float] | Iterable[str],
        k: int = 10,
        mask: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ids and scores of the k best passages with a positive score, best first."""
        scores = self.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > k:
            candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        # Ties go to the earlier passage, so answers are stable from run to run.
        order = np.lexsort((candidates, -scores[candidates]))
        best = candidates[order]
        return best, scores[best]

    def max_idf(self) -> float:
        """The idf of a term found nowhere, as BM25Okapi's formula would give it."""
        return math.log(self.size + 0.5) - math.log(0.5)

    def save(self, folder: Path) -> None:
        w = self.weights
        np.savez(
            folder / ARRAYS,
            data=w.data,
            indices=w.indices,
            indptr=w.indptr,
            idf=self.idf,
            doc_len=self.doc_len,
            params=np.array([self.k1, self.b, self.epsilon]),
        )
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        (folder / VOCABULARY).write_text(json.dumps(terms, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        with np.load(folder / ARRAYS, allow_pickle=False) as arrays:
            k1, b, epsilon = arrays["params"].tolist()
            index = cls(k1, b, epsilon)
            index.idf = arrays["idf"]
            index.doc_len = arrays["doc_len"]
            shape = (len(index.doc_len), len(index.idf))
            index.weights = sparse.csc_matrix(
                (arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape
            )
        terms = json.loads((folder / VOCABULARY).read_text("utf-8"))
        if len(terms) != len(index.idf):
            raise ValueError("vocabulary and weights disagree")
        index.vocabulary = {t: i for i, t in enumerate(terms)}
        return index
