"""A sharded index answered shard by shard, with the same rankings as one index of it all.

A question is ranked in two rounds, as Elasticsearch's `dfs_query_then_fetch` does. First each
shard counts its live passages and paragraphs that hold each of the question's terms, and the
counts are added up: the whole index's document frequencies. Then each shard retrieves its best
passages with them (its index holds the whole version's statistics, qa.index.bm25) and computes
the re-ranker's features of its candidates (qa.answer.rank.Hits); the features that compare
candidates with each other, and the model, are applied to all of them together
(qa.answer.rank.Reranker.order). Each shard's best CANDIDATES hold every one of its passages
that the whole index's best would, and its first PARAGRAPHS paragraphs every one of its own
among the whole's, so the ranking is the one a single index gives.

`LocalShards` serves the shards in this process; qa.service.cluster serves them from Ray actors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from qa.answer.query import Query
from qa.answer.rank import Corpuswide, Hits, Ranker, Ranking, Reranker
from qa.common.memo import Memo
from qa.common.vocabulary import LOOKUPS
from qa.index import shards
from qa.index.bm25 import BM25Index, Stats
from qa.index.segments import Segment
from qa.ingest.passages import JoinedTable
from qa.text.analyze import Analyzer
from qa.text.question import Question, analyse

Counts = list[tuple[int, int]]  # each term's live passages and live paragraphs


class ShardUnavailable(Exception):
    """A shard could not answer (its servers are down or too slow): the question gets no answer
    rather than one from the other shards only."""

    def __init__(self, shard: str, why: str) -> None:
        super().__init__(f"{shard} of the index cannot answer now ({why}); try again")
        self.shard = shard


class ShardSet(Protocol):
    """The shards of a version, however they are served: each call asks every shard, and
    returns their answers in shard order; ShardUnavailable when one cannot answer."""

    def names(self) -> list[str]: ...

    def places(self) -> list[tuple[str, list[str]]]:
        """Each shard's name and where each of its replicas runs."""
        ...

    def close(self) -> None:
        """Lets the shards go: the version is no longer served from here."""
        ...

    def paragraphs(self) -> list[int]: ...

    def counts(self, terms: list[str]) -> list[Counts]: ...

    def hits(
        self,
        query: Query,
        question: str,
        corpus: dict[str, tuple[int, int]],
        paragraphs: int,
        mask: np.ndarray | None,
        nearest: np.ndarray | None = None,
    ) -> list[Hits]: ...


class Shard:
    """One shard of a version: its segments' index, weighed with the whole version's statistics
    and its terms' document frequencies, and its ranker; rows are the version's."""

    def __init__(
        self,
        parts: Sequence[Segment],
        deleted: Sequence[set[int]],
        bases: Sequence[int],
        stats: Stats,
        params: Sequence[float],
    ) -> None:
        """`bases` is the version's row of each segment's first passage."""
        lives = [part.live(gone) for part, gone in zip(parts, deleted, strict=True)]
        # The whole index's counts of the terms asked so far, as the coordinator sums them.
        self._corpus: dict[str, tuple[int, int]] = {}
        index = BM25Index(*params).of_segments(
            [p.postings for p in parts], lives, stats, lambda term: self._corpus[term][0]
        )
        table = parts[0].table if len(parts) == 1 else JoinedTable([p.table for p in parts])
        paths = [d.path for p in parts for d in p.documents]
        index.tie_order = shards.tie_order(paths, table.doc_starts)
        titles = [d.title for p in parts for d in p.documents]
        self._corpuswide = Corpuswide(0, lambda term: self._corpus[term][1])
        self.ranker = Ranker(index, table, titles, Analyzer(), corpuswide=self._corpuswide)
        self._local = np.cumsum([0] + [p.size for p in parts])
        self._global = np.asarray(bases, np.int64)
        self._counts = Memo(self._count, LOOKUPS)

    def paragraphs(self) -> int:
        """How many live paragraphs it has."""
        return self.ranker._live_paragraphs

    def counts(self, terms: list[str]) -> Counts:
        """How many of its live passages, and of its live paragraphs, hold each term."""
        return [self._counts[term] for term in terms]

    def _count(self, term: str) -> tuple[int, int]:
        return len(self.ranker.index.live_rows(term)), self.ranker._paragraph_df(term)

    def hits(
        self,
        query: Query,
        question: str | Question,
        corpus: dict[str, tuple[int, int]],
        paragraphs: int,
        mask: np.ndarray | None,
        nearest: np.ndarray | None = None,
    ) -> Hits:
        """Its part of a question's ranking, weighed with the whole index's counts of the
        question's terms and of its paragraphs; `mask` and the rows `nearest` the question by
        meaning (Reranker.nearest) are the version's."""
        self._corpus.update(corpus)
        self._corpuswide.paragraphs = paragraphs
        if mask is not None:
            mask = np.concatenate(
                [mask[b : b + n] for b, n in zip(self._global, np.diff(self._local), strict=True)]
            )
        own = None if nearest is None else self.from_version(np.asarray(nearest, np.intp))
        return self.ranker.hits(query, question, mask, own).moved(self.to_version)

    def from_version(self, rows: np.ndarray) -> np.ndarray:
        """Those of the version's rows that it holds, in their order, as its own rows."""
        part = np.maximum(np.searchsorted(self._global, rows, "right") - 1, 0)
        offset = rows - self._global[part]
        held = (offset >= 0) & (offset < np.diff(self._local)[part])
        return (offset + self._local[part])[held].astype(np.intp)

    def to_version(self, rows: np.ndarray) -> np.ndarray:
        """Its rows as the version numbers them."""
        part = np.searchsorted(self._local, rows, "right") - 1
        return (rows - self._local[part] + self._global[part]).astype(np.intp)


def shard_name(number: int) -> str:
    return f"shard {number}"


def split(
    parts: Sequence[Segment], homes: Sequence[int], count: int
) -> list[tuple[list[int], list[int]]]:
    """Each shard's segments (their places in the version) and its rows' base in the version."""
    bases = np.concatenate([[0], np.cumsum([p.size for p in parts])])
    own: list[tuple[list[int], list[int]]] = [([], []) for _ in range(count)]
    for i, home in enumerate(homes):
        own[home][0].append(i)
        own[home][1].append(int(bases[i]))
    return own


class LocalShards:
    """The shards of a version, served one after the other in this process."""

    def __init__(
        self,
        parts: Sequence[Segment],
        deleted: Sequence[set[int]],
        homes: Sequence[int],
        count: int,
        stats: Stats,
        params: Sequence[float],
    ) -> None:
        self._numbers, self._shards = [], []
        for number, (chosen, bases) in enumerate(split(parts, homes, count)):
            if chosen:  # a shard that no file went to has nothing to serve
                own = [parts[i] for i in chosen], [deleted[i] for i in chosen]
                self._numbers.append(number)
                self._shards.append(Shard(*own, bases, stats, params))

    def names(self) -> list[str]:
        return [shard_name(number) for number in self._numbers]

    def places(self) -> list[tuple[str, list[str]]]:
        return [(name, ["local"]) for name in self.names()]

    def close(self) -> None:
        pass  # the shards go with this object

    def paragraphs(self) -> list[int]:
        return [shard.paragraphs() for shard in self._shards]

    def counts(self, terms: list[str]) -> list[Counts]:
        return [shard.counts(terms) for shard in self._shards]

    def hits(
        self,
        query: Query,
        question: str,
        corpus: dict[str, tuple[int, int]],
        paragraphs: int,
        mask: np.ndarray | None,
        nearest: np.ndarray | None = None,
    ) -> list[Hits]:
        asked = (query, question, corpus, paragraphs, mask, nearest)
        return [shard.hits(*asked) for shard in self._shards]


class ShardedRanker(Reranker):
    """Ranks a question over every shard of a version (see the module's docstring)."""

    def __init__(self, shards: ShardSet, tie_order, live: np.ndarray | None = None) -> None:
        self.shards, self.tie_order, self.live = shards, tie_order, live
        self._paragraphs: int | None = None

    def rank(
        self, query: Query, question: str | Question, mask: np.ndarray | None = None
    ) -> Ranking:
        question = analyse(question)
        terms = list(query.weights)
        if self._paragraphs is None:
            self._paragraphs = sum(self.shards.paragraphs())
        found = self.shards.counts(terms)
        corpus = {
            term: (sum(c[j][0] for c in found), sum(c[j][1] for c in found))
            for j, term in enumerate(terms)
        }
        nearest = self.nearest(question, mask)
        hits = self.shards.hits(query, question.text, corpus, self._paragraphs, mask, nearest)
        return self.order(hits, question, nearest)
