"""A BM25 index over segments that gives exactly rank-bm25's BM25Okapi scores of its live passages.

An index is a list of immutable segments (Postings: each term's passages, ascending, and how often
the term is in each, as small integers in column arrays) and the passages deleted from them. A
query weighs only the postings of its terms, idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl /
avgdl)), with the statistics of the live passages: their count and average length (Stats, made
when a version is committed) and each query term's document frequency, counted at query time
over its live postings. So whatever additions, changes and removals made a version, its scores
are BM25Okapi's over its live passages built from scratch. Every array is saved as a .npy file
and loaded memory-mapped, the vocabulary included.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
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
ARRAYS = ("indptr", "indices", "tf", "doc-len", "hashes", "offsets", "terms")
PARAMS = "params"
# A query with at most this many postings in all has every one scored: pruning would cost more.
SCORED_ALL_UP_TO = 2048
# Pruning is taken when it scores this many times fewer (row, term) pairs than there are postings:
# a binary search per pair costs several times what adding one posting up does.
PRUNING_GAIN = 4
# Bounds are compared with a margin far above floating-point rounding, so pruning stays exact.
BOUND_MARGIN = 1 + 1e-9

Query = Mapping[str, float] | Iterable[str]
_NO_MASK = np.zeros(0, bool)


class Postings:
    """One segment's postings, column by column (CSC), and the length of each of its passages."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        indptr: np.ndarray,
        indices: np.ndarray,
        tf: np.ndarray,
        doc_len: np.ndarray,
    ) -> None:
        self.vocabulary, self.indptr, self.indices, self.tf = vocabulary, indptr, indices, tf
        self.doc_len = doc_len

    @property
    def size(self) -> int:
        return len(self.doc_len)

    @classmethod
    def of_counts(cls, counts: TermCounts) -> Postings:
        """The postings of passages already counted (see TermCounts)."""
        vocabulary, column = Vocabulary.build(counts.terms)
        cols = column.astype(np.int32)[counts.term_ids]
        rows = np.repeat(np.arange(len(counts.lengths), dtype=np.int32), counts.distinct)
        return cls._of(vocabulary, rows, cols, counts.counts, compact(counts.lengths))

    @classmethod
    def _of(
        cls,
        vocabulary: Vocabulary,
        rows: np.ndarray,
        cols: np.ndarray,
        tf: np.ndarray,
        doc_len: np.ndarray,
    ) -> Postings:
        # scipy's conversion of (row, column) pairs to CSC is one linear pass.
        # A term is rarely in a sentence more than 255 times: a byte per count, else two or four.
        shape = (len(doc_len), len(vocabulary))
        postings = sparse.coo_matrix((compact(tf), (rows, cols)), shape=shape).tocsc()
        postings.sort_indices()
        return cls(vocabulary, compact(postings.indptr), postings.indices, postings.data, doc_len)

    @classmethod
    def merged(cls, parts: Sequence[Postings], lives: Sequence[np.ndarray | None]) -> Postings:
        """The live passages of the parts, in order, as one segment: their terms' columns joined
        by the terms' bytes, and the terms only deleted passages held left out."""
        columns: dict[bytes, int] = {}
        rows, cols, tfs, lengths = [], [], [], []
        base = 0
        for part, live in zip(parts, lives, strict=True):
            keep = np.ones(part.size, bool) if live is None else np.asarray(live, bool)
            renumbered = np.cumsum(keep) - 1 + base
            own = np.array(
                [columns.setdefault(t, len(columns)) for t in part.vocabulary.term_bytes()],
                np.int64,
            )
            col = np.repeat(own, np.diff(part.indptr))
            held = keep[part.indices]
            rows.append(renumbered[part.indices[held]])
            cols.append(col[held])
            tfs.append(part.tf[held])
            lengths.append(part.doc_len[keep])
            base += int(keep.sum())
        col = np.concatenate([np.zeros(0, np.int64), *cols])
        used = np.bincount(col, minlength=len(columns)) > 0
        terms = [t.decode("utf-8") for t, u in zip(columns, used.tolist(), strict=True) if u]
        vocabulary, column = Vocabulary.build(terms)
        new = np.full(len(columns), -1, np.int64)
        new[used] = column
        return cls._of(
            vocabulary,
            np.concatenate([np.zeros(0, np.int64), *rows]),
            new[col],
            np.concatenate([np.zeros(0, np.uint8), *tfs]),
            compact(np.concatenate([np.zeros(0, np.int64), *lengths])),
        )

    def live_df(self, live: np.ndarray | None) -> np.ndarray:
        """How many live passages hold each term, by column (`live`: None when all are)."""
        if live is None or not len(self.indices):
            return np.diff(self.indptr).astype(np.int64)
        # Every column holds at least one posting, so no two starts are equal but at the end.
        return np.add.reduceat(live[self.indices], self.indptr[:-1], dtype=np.int64)

    def save(self, folder: Path) -> list[str]:
        vocabulary = self.vocabulary
        return arrays.save(
            folder,
            {
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
    def load(cls, folder: Path) -> Postings:
        """The saved postings, memory-mapped; ValueError or OSError when they are damaged."""
        loaded = arrays.load(folder, [PREFIX + name for name in ARRAYS])
        a = {name: loaded[PREFIX + name] for name in ARRAYS}
        vocabulary = Vocabulary(a["hashes"], a["offsets"], a["terms"])
        indptr, v = a["indptr"], len(vocabulary)
        if not (
            v == len(a["offsets"]) - 1 == len(indptr) - 1
            and indptr[-1] == len(a["indices"]) == len(a["tf"])
            and a["offsets"][-1] == len(a["terms"])
        ):
            raise ValueError("index arrays disagree")
        return cls(vocabulary, indptr, a["indices"], a["tf"], a["doc-len"])


@dataclass(frozen=True)
class Stats:
    """What BM25 weighs with of a version's live passages: their count, their total length, and
    how many distinct terms they hold with the sum of those terms' idf (for the idf floor)."""

    passages: int
    length: int
    terms: int
    idf_sum: float

    @classmethod
    def of(cls, parts: Sequence[Postings], lives: Sequence[np.ndarray | None]) -> Stats:
        n = length = 0
        hashes, dfs = [], []
        for part, live in zip(parts, lives, strict=True):
            df = part.live_df(live)
            held = df > 0
            hashes.append(part.vocabulary.hashes[held])
            dfs.append(df[held])
            n += part.size if live is None else int(np.count_nonzero(live))
            length += int(part.doc_len.sum() if live is None else part.doc_len[live].sum())
        df = np.concatenate([np.zeros(0, np.int64), *dfs])
        if len(parts) > 1:
            # One term in several segments is one term: the same bytes give the same 64-bit hash
            # (two terms of one hash in different segments would be counted as one).
            distinct, inverse = np.unique(np.concatenate(hashes), return_inverse=True)
            df = np.bincount(inverse, df, minlength=len(distinct))
        df = df.astype(float)
        # The same operations as BM25Okapi._calc_idf.
        idf = np.log(n - df + 0.5) - np.log(df + 0.5)
        return cls(n, length, len(df), float(idf.sum()))


class Term:
    """A term's live postings over the whole index: its passages, ascending, and its count in
    each (arrays not to be changed), with its idf and document frequency; its BM25 weights are
    computed from them when asked for, all (`weights`) or at some postings (`weights_at`)."""

    def __init__(self, rows: np.ndarray, tf: np.ndarray, idf: float, index: BM25Index) -> None:
        self.rows, self.tf, self.idf, self.df = rows, tf, idf, len(rows)
        self._k1, self._norm = index.k1, index._norm
        self._weights: np.ndarray | None = None

    @property
    def weights(self) -> np.ndarray:
        return self.weighed()._weights

    def weighed(self) -> Term:
        """The term with all its weights computed, to be remembered."""
        if self._weights is None:
            self._weights = self.weights_at(slice(None))
            self._weights.flags.writeable = False
        return self

    def weights_at(self, places: np.ndarray | slice) -> np.ndarray:
        """The term's BM25 weights at these of its postings."""
        if self._weights is not None:
            return self._weights[places]
        tf = self.tf[places].astype(np.float64)
        # The same operations, in the same order, as BM25Okapi.get_scores, so the same floats.
        return self.idf * (tf * (self._k1 + 1) / (tf + self._norm[self.rows[places]]))

    def bound(self, least_norm: float) -> float:
        """No passage weighs the term more: its largest count in the shortest passage."""
        most = float(self.tf.max())
        return self.idf * (most * (self._k1 + 1) / (most + least_norm))


class BM25Index:
    """BM25Okapi over lists of terms: `index`, `scores`, `retrieve`, `save`, `load`; over several
    segments and their deletions with `of_segments`."""

    def __init__(self, k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25) -> None:
        self.k1, self.b, self.epsilon = k1, b, epsilon
        # Each thread adds scores up in its own buffer, kept between queries and reset after.
        self._local = threading.local()
        self._terms: Memo[str, Term | list | None] = Memo(self._find, LOOKUPS)
        # The sort keys of rows that tie on score (see `_best`); None: the earlier row first.
        self.tie_order: Callable[[np.ndarray], np.ndarray] | None = None
        self.of_segments([], [])

    def index(self, corpus: Iterable[list[str]]) -> BM25Index:
        return self.index_counts(TermCounts.of(corpus))

    def index_counts(self, counts: TermCounts) -> BM25Index:
        """Indexes passages already counted (see TermCounts), as one segment."""
        return self.of_segments([Postings.of_counts(counts)], [None])

    def of_segments(
        self,
        parts: Sequence[Postings],
        lives: Sequence[np.ndarray | None],
        stats: Stats | None = None,
        corpus_df: Callable[[str], int] | None = None,
    ) -> BM25Index:
        """Serves these segments, one after the other; `lives` says which passages of each are
        live (None: all); `stats` are theirs (see Stats.of), when known.

        A shard of a larger index is given the whole index's `stats`, and `corpus_df`, each
        term's document frequency in the whole index, so that it weighs as the whole does.
        """
        self.parts, self.lives = list(parts), list(lives)
        self.corpus_df = corpus_df
        sizes = [p.size for p in self.parts]
        self.bases = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        self.size = int(self.bases[-1])
        self.row_type = np.int32 if self.size < 2**31 else np.int64
        self.stats = stats or Stats.of(self.parts, self.lives)
        lengths = [p.doc_len for p in self.parts]
        self.doc_len = lengths[0] if len(lengths) == 1 else compact(np.concatenate([[], *lengths]))
        self.live = None
        if any(live is not None for live in self.lives):
            self.live = np.concatenate(
                [
                    np.ones(s, bool) if v is None else v
                    for s, v in zip(sizes, self.lives, strict=True)
                ]
            )
        n = self.stats.passages
        self.avgdl = self.stats.length / n if n else 1.0
        # The floor of a negative idf, as BM25Okapi sets it: epsilon times the average idf.
        terms = self.stats.terms
        self.floor = self.epsilon * (self.stats.idf_sum / terms) if terms else 0.0
        # BM25's length normalisation of every passage, as BM25Okapi.get_scores computes it.
        self._norm = self.k1 * (1 - self.b + self.b * self.doc_len / self.avgdl)
        self._least_norm = float(self._norm.min(initial=self.k1))
        self._terms.clear()
        return self

    @property
    def vocabulary(self) -> Vocabulary:
        """The terms of an index of one segment."""
        (part,) = self.parts
        return part.vocabulary

    @property
    def terms(self) -> int:
        """How many distinct terms the live passages hold."""
        return self.stats.terms

    def term(self, term: str) -> Term | None:
        """The term's live postings, weighed; None when no live passage holds it."""
        found = self._terms[term]
        return found if found is None or isinstance(found, Term) else self._weigh(term, found)

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self._terms[term] is not None

    def _find(self, term: str) -> Term | list | None:
        """The term weighed when it has few postings, else where they are (see `_locate`)."""
        places = self._locate(term)
        if not places:
            return None
        held = sum(int(self.parts[i].indptr[c + 1] - self.parts[i].indptr[c]) for i, c in places)
        if held > REMEMBERED_POSTINGS:
            return places
        found = self._weigh(term, places)
        return None if found is None else found.weighed()

    def _locate(self, term: str) -> list[tuple[int, int]]:
        """Where the term's postings are: (part, column)s."""
        places = []
        for i, part in enumerate(self.parts):
            column = part.vocabulary.get(term)
            if column is not None:
                places.append((i, column))
        return places

    def live_rows(self, term: str) -> np.ndarray:
        """The live passages that hold the term, ascending, found without weighing them (a
        shard counts them before it knows the whole index's statistics)."""
        return self._postings(self._locate(term))[0]

    def _weigh(self, term: str, places: list[tuple[int, int]]) -> Term | None:
        rows, tf = self._postings(places)
        df = len(rows)
        if not df:
            return None
        idf = self.idf(df if self.corpus_df is None else self.corpus_df(term))
        return Term(rows, tf, idf, self)

    def absent(self, term: str) -> Term:
        """A term that this shard's passages lack but others hold: no postings, its idf that of
        the whole index."""
        df = self.corpus_df(term) if self.corpus_df else 0
        return Term(np.zeros(0, self.row_type), np.zeros(0, np.uint8), self.idf(df), self)

    def idf(self, df: int) -> float:
        """The idf of a term that `df` live passages hold, BM25Okapi's floor for a negative one."""
        n = self.stats.passages
        # The same operations, in the same order, as BM25Okapi._calc_idf.
        idf = math.log(n - df + 0.5) - math.log(df + 0.5)
        return self.floor if idf < 0 else idf

    def _postings(self, places: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        """The live rows and counts of postings at these places, in row order."""
        rows, tfs = [np.zeros(0, self.row_type)], [np.zeros(0, np.uint8)]
        for i, column in places:
            part, live = self.parts[i], self.lives[i]
            lo, hi = part.indptr[column : column + 2].tolist()
            found, tf = part.indices[lo:hi], part.tf[lo:hi]
            if live is not None:
                held = live[found]
                found, tf = found[held], tf[held]
            if self.bases[i]:
                found = found.astype(self.row_type) + self.row_type(self.bases[i])
            rows.append(found)
            tfs.append(tf)
        if len(rows) == 2:
            return rows[1], tfs[1]
        return np.concatenate(rows), np.concatenate(tfs)

    def document_frequency(self, term: str) -> int:
        """How many live passages hold the term."""
        found = self.term(term)
        return 0 if found is None else found.df

    def _query_terms(self, query: Query) -> list[tuple[Term, float]]:
        """Each query term that live passages hold, with its weight in the query, in order."""
        weights = query if isinstance(query, Mapping) else Counter(query)
        found = []
        for term, weight in weights.items():
            postings = self.term(term) if weight else None
            if postings is not None:
                found.append((postings, weight))
        return found

    def scores(self, query: Query) -> np.ndarray:
        """Every passage's score; a mapping weighs each term, a list counts repeated terms."""
        scores = np.zeros(self.size)
        for term, weight in self._query_terms(query):
            scores[term.rows] += weight * term.weights
        return scores

    def retrieve(
        self, query: Query, k: int = 10, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ids and scores of the k best passages with a positive score, best first.

        Only the postings of the query's terms are read, and of the common ones (MaxScore) only
        those of passages that could be among the k best: a passage that holds none of the
        rarer terms scores at most the common terms' bounds, and when those fall short of k
        passages already scored, it cannot be one of them.
        """
        terms = self._query_terms(query)
        if not terms:
            return np.zeros(0, np.intp), np.zeros(0)
        held = sum(len(t.rows) for t, _ in terms)
        if held <= SCORED_ALL_UP_TO or any(t.idf <= 0 or w <= 0 for t, w in terms):
            return self._retrieve_all(terms, k, mask)
        bounds = [w * t.bound(self._least_norm) for t, w in terms]
        by_bound = sorted(range(len(terms)), key=bounds.__getitem__, reverse=True)
        first = terms[by_bound[0]][0].rows
        if not _worth_scoring(len(first), terms, held):
            return self._retrieve_all(terms, k, mask)
        # A first k: the passages of the term that can weigh most, scored whole.
        rows, scores = self._scored(terms, first, mask)
        threshold = _kth(scores, k)
        # The terms, from the least weighty up, whose bounds together stay below the k-th best
        # score: a passage that holds only those cannot be among the best.
        rest, below = 0.0, len(by_bound)
        while below > 1 and (rest + bounds[by_bound[below - 1]]) * BOUND_MARGIN < threshold:
            below -= 1
            rest += bounds[by_bound[below]]
        if below > 1:
            held_rows = [terms[i][0].rows for i in by_bound[:below]]
            if not _worth_scoring(sum(map(len, held_rows)), terms, held):
                return self._retrieve_all(terms, k, mask)
            rows, scores = self._scored(terms, np.unique(np.concatenate(held_rows)), mask)
        keep = scores > 0
        return _best(rows[keep], scores[keep], k, self.tie_order)

    def _scored(
        self, terms: list[tuple[Term, float]], rows: np.ndarray, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows (ascending, distinct; those of `mask`) and their whole scores, the query's terms
        added in its order as `scores` adds them, so to the same floats."""
        if mask is not None:
            rows = rows[mask[rows]]
        scores = np.zeros(len(rows))
        for term, weight in terms:
            places = np.searchsorted(term.rows, rows.astype(term.rows.dtype, copy=False))
            places = np.minimum(places, len(term.rows) - 1)
            hit = term.rows[places] == rows
            scores[hit] += weight * term.weights_at(places[hit])
        return rows, scores

    def _retrieve_all(
        self, terms: list[tuple[Term, float]], k: int, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """retrieve, every posting of every term scored, in one compiled pass (qa.index.compiled)
        that adds them up in a buffer and clears it again at those rows, so no step costs in
        proportion to the whole corpus."""
        from qa.index.compiled import best_postings

        starts = np.zeros(len(terms) + 1, np.int64)
        np.cumsum([len(term.rows) for term, _ in terms], out=starts[1:])
        found, scores = best_postings(
            np.concatenate([term.rows for term, _ in terms]),
            np.concatenate([term.tf for term, _ in terms]),
            starts,
            np.array([term.idf for term, _ in terms], np.float64),
            np.array([weight for _, weight in terms], np.float64),
            self._norm,
            self.k1,
            self._buffer(),
            _NO_MASK if mask is None else mask,
            mask is not None,
            k,
        )
        return _best(found, scores, k, self.tie_order)

    def _buffer(self) -> np.ndarray:
        local = self._local
        if getattr(local, "buffer", None) is None or len(local.buffer) != self.size:
            local.buffer = np.zeros(self.size)
        return local.buffer

    def max_idf(self) -> float:
        """The idf of a term found nowhere, as BM25Okapi's formula would give it."""
        return math.log(self.stats.passages + 0.5) - math.log(0.5)

    def params(self) -> np.ndarray:
        return np.array([self.k1, self.b, self.epsilon])

    def save(self, folder: Path) -> list[str]:
        """Writes an index of one segment, with no deletion, as .npy files; returns their names."""
        (part,) = self.parts
        return arrays.save(folder, {PREFIX + PARAMS: self.params()}) + part.save(folder)

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        """An index saved by `save`, memory-mapped; ValueError or OSError when it is damaged."""
        k1, b, epsilon = arrays.load(folder, [PREFIX + PARAMS])[PREFIX + PARAMS].tolist()
        return cls(k1, b, epsilon).of_segments([Postings.load(folder)], [None])


def _at_least_as_good(
    rows: np.ndarray, scores: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The entries that score at least as well as the k-th best one (ties make them more)."""
    if len(rows) <= k:
        return rows, scores
    keep = scores >= _kth(scores, k)
    return rows[keep], scores[keep]


def _worth_scoring(rows: int, terms: list, held: int) -> bool:
    """Whether scoring these rows whole (a binary search in each term's postings) costs less
    than adding up every posting of the query."""
    return rows * len(terms) * PRUNING_GAIN <= held


def _kth(scores: np.ndarray, k: int) -> float:
    """The k-th best of some scores, 0 when there are fewer."""
    if len(scores) < k:
        return 0.0
    return float(np.partition(scores, len(scores) - k)[len(scores) - k])


def _best(
    rows: np.ndarray, scores: np.ndarray, k: int, tie_order: Callable | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The k best distinct rows by score, ties to the earlier row (or the one `tie_order`
    puts first), so answers are stable."""
    rows, scores = _at_least_as_good(rows, scores, k)
    order = np.lexsort((rows if tie_order is None else tie_order(rows), -scores))[:k]
    return rows[order].astype(np.intp), scores[order]
