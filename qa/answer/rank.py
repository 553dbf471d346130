"""Ordering BM25's candidate sentences by lexical evidence from the sentence and around it.

BM25 judges a sentence alone, by its words' rarity in the whole corpus. A question is asked
about a passage of a document, so more evidence lies around the sentence: question words in the
neighbouring sentences, the paragraph and the title; the words that are rare within the
document (a name that fills a whole article tells little about which of its sentences answers);
and whether the sentence holds the kind of answer the question word asks for (a date for
"when", a number for "how many"; qa.text.question reads the question word and holds the
patterns that test sentences for them). A linear model over these features, fitted on SQuAD with
`python -m qa.tools.fit` and stored in qa/data/ranker.json, orders the candidates. Retrieval itself
is left as it is: exact BM25 picks the candidates. Every feature is read from the index's
postings of the question's terms and from the passages' columns, so a question costs in
proportion to its terms' postings, as retrieval does, plus a few regular expressions per
candidate.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, cached_property, lru_cache
from itertools import compress
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.answer.query import Query
from qa.common.memo import Memo
from qa.common.vocabulary import LOOKUPS
from qa.index.bm25 import BM25Index, Term
from qa.ingest.passages import PassageTable
from qa.settings import PACKAGE_DATA
from qa.text.analyze import Analyzer, fold, tokens, tokens_of_texts
from qa.text.question import HAS_DATE, NAME_WORD, NUMBER_TOKEN, Question, analyse
from qa.text.question import question_word as question_word  # callers read it here too

if TYPE_CHECKING:
    from qa.semantic.vectors import Vectors

MODEL = PACKAGE_DATA / "ranker.json"
# With the semantic stage (qa.semantic), the model that also reads the candidates' meaning.
SEMANTIC_MODEL = PACKAGE_DATA / "ranker-semantic.json"
# The best sentences by BM25 are the candidates, with the other sentences of the first few
# paragraphs among them: the answer is often beside the sentence that repeats the question.
CANDIDATES = 50
PARAGRAPHS = 5
# With the semantic stage, the passages nearest the question by meaning join the candidates
# too: a sentence that says the answer in other words than the question's may share too
# few of its words for BM25 to find it.
NEAREST = 20
# Paragraph BM25's parameters (BM25Okapi's usual ones).
PARAGRAPH_K1 = 1.2
PARAGRAPH_B = 0.75
FEATURES = (
    "coverage",
    "local_bm25",
    "local_coverage",
    "window_coverage",
    "previous_bm25",
    "next_coverage",
    "paragraph_bm25",
    "document_coverage",
    "title_coverage",
    "length",
    "novelty",
    "when_date",
    "count_number",
    "new_names",
)
# With passage vectors: the cosine of the question's vector with the candidate's, and with the
# mean of the vectors of the candidate and its neighbours in the paragraph.
SEMANTIC_FEATURES = ("semantic", "semantic_window")


def evidence_names(features: Sequence[str]) -> tuple[str, ...]:
    """What the answerability model reads of a ranking (see `evidence`): the largest share of
    the question's idf mass that a candidate holds with its neighbours and alone, and every
    feature of the best candidate. (Not its probability: that depends on how many candidates a
    corpus has, and a small corpus has few.)"""
    return ("support", "best_coverage", *(f"top_{name}" for name in features))


EVIDENCE = evidence_names(FEATURES)
# Passages whose Surface is remembered.
SURFACES = 4096


@dataclass(frozen=True)
class Terms:
    """The question's terms found in the index: postings, query weights and corpus idf."""

    names: list[str]
    postings: list[np.ndarray]  # each term's passages, ascending
    found: list[Term]  # each term's postings, whose BM25 weights are computed where read
    query: np.ndarray  # each term's weight in the query, earlier questions' terms included
    # The weights of the terms the question itself asks about (earlier questions' terms when
    # it has none of its own): what a passage must hold to answer it, whatever the context.
    asked: np.ndarray
    idf: np.ndarray
    missing: float  # the weight of asked terms found nowhere
    # The terms after the first `leads` are irregular forms of a question's word (`drove` for
    # `drive`, Query.variants): each one's lead term, which the features count it as.
    lead: tuple[int, ...] = ()

    def __len__(self) -> int:
        return len(self.query)

    @property
    def leads(self) -> int:
        return len(self.names) - len(self.lead)

    def joined(self, held: np.ndarray) -> np.ndarray:
        """rows x terms as rows x lead terms: each variant's column joined to its lead's by
        the larger value, so a sentence that says `drove` holds the question's `drive`."""
        if not self.lead:
            return held
        out = held[:, : self.leads].copy()
        for column, lead in enumerate(self.lead, self.leads):
            np.maximum(out[:, lead], held[:, column], out=out[:, lead])
        return out

    def of_leads(self) -> Terms:
        """The lead terms alone (all of them when no variant was found)."""
        if not self.lead:
            return self
        n = self.leads
        return Terms(
            self.names[:n],
            self.postings[:n],
            self.found[:n],
            self.query[:n],
            self.asked[:n],
            self.idf[:n],
            self.missing,
        )


@dataclass(frozen=True)
class Ranking:
    """Candidates best first, each with its probability of being the answer and its terms."""

    rows: np.ndarray
    probabilities: np.ndarray
    # The largest share of the question's idf mass that a candidate holds with its neighbours.
    support: float
    # The answerability model's log-odds that the documents hold the answer (see `evidence`):
    # below zero, the answer is taken to be missing from the documents.
    answerable: float = -math.inf
    names: Sequence[str] = ()  # the question's terms that the index holds
    present: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))  # rows x names

    def matched(self, i: int) -> list[str]:
        """The question's terms that the i-th candidate holds."""
        return list(compress(self.names, self.present[i].tolist()))


@dataclass(frozen=True)
class Hits:
    """One index's (or shard's) part of a ranking: its best passages by BM25 and the other
    passages of their first paragraphs, each with its features before they are compared across
    candidates (see Reranker.order), its paragraph's bounds [start, end) and its terms."""

    rows: np.ndarray  # the retrieved ones first, best first, then the others
    scores: np.ndarray  # BM25's score of each retrieved row
    start: np.ndarray
    end: np.ndarray
    features: np.ndarray  # rows x FEATURES, the BY_BEST ones not yet shares of the best
    present: np.ndarray  # rows x names: whether each row holds each term
    names: Sequence[str]

    @classmethod
    def none(cls) -> Hits:
        empty = np.zeros(0, np.intp)
        features = np.zeros((0, len(FEATURES)))
        return cls(empty, np.zeros(0), empty, empty, features, np.zeros((0, 0), bool), ())

    def moved(self, rows: Callable[[np.ndarray], np.ndarray]) -> Hits:
        """The same hits with their rows (and bounds) numbered as `rows` maps them."""
        start = rows(self.start)
        return replace(self, rows=rows(self.rows), start=start, end=start + self.end - self.start)


@dataclass
class Corpuswide:
    """What a ranker reads of the whole index besides its own passages' postings: how many
    live paragraphs it has, and how many of them hold a term. A shard is told these."""

    paragraphs: int
    paragraph_df: Callable[[str], int]


class Reranker:
    """Orders the candidates that one index, or each shard of one, found (see Hits): the
    re-ranker's model over their features."""

    # The passages' vectors when the semantic stage is on (qa.semantic), else None.
    vectors: Vectors | None = None
    # The sort keys of rows that tie (see BM25Index.tie_order); None: the earlier row first.
    tie_order: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def model(self) -> tuple[Path, tuple[str, ...]]:
        """The model file in use and the features it reads."""
        if self.vectors is None:
            return MODEL, FEATURES
        return SEMANTIC_MODEL, FEATURES + SEMANTIC_FEATURES

    # Which rows are live (None: all), for the passages nearest a question.
    live: np.ndarray | None = None

    def nearest(self, question: Question, mask: np.ndarray | None) -> np.ndarray:
        """The NEAREST live rows of `mask` to the question by meaning, nearest first; none
        without the semantic stage."""
        if self.vectors is None:
            return np.zeros(0, np.intp)
        allowed = self.live if mask is None else mask if self.live is None else mask & self.live
        vector = question_vector(question.text)
        return self.vectors.nearest(vector, NEAREST, allowed, self.tie_order)

    def order(
        self, found: Sequence[Hits], question: Question, nearest: np.ndarray | None = None
    ) -> Ranking:
        """The ranking of the hits of every shard, as one index of them all would rank them:
        the CANDIDATES best by BM25 (ties in corpus order), then the other passages of their
        first PARAGRAPHS paragraphs, then the `nearest` rows by meaning not among them,
        ordered by the model. Nothing when BM25 found nothing."""
        found = [hits for hits in found if len(hits.rows)]
        if not any(len(hits.scores) for hits in found):
            return Ranking(np.zeros(0, np.intp), np.zeros(0), 0.0)
        rows, candidates = _candidates(found, self.tie_order, nearest)
        start = np.concatenate([h.start for h in found])[candidates]
        end = np.concatenate([h.end for h in found])[candidates]
        raw = np.concatenate([h.features for h in found])[candidates]
        present = np.concatenate([h.present for h in found])[candidates]
        features = self.finished(raw, question, rows, start, end)
        model, names = self.model
        scores = features @ model_weights(model, names)
        order = np.lexsort((np.arange(len(rows)), -scores))
        probabilities = np.exp(scores[order] - scores[order[0]])
        probabilities /= probabilities.sum()
        support = float(features[:, FEATURES.index("window_coverage")].max())
        weights, bias = abstention_model(model, names)
        answerable = float(evidence(features, order[0]) @ weights + bias)
        terms = found[0].names
        return Ranking(rows[order], probabilities, support, answerable, terms, present[order])

    def finished(
        self,
        raw: np.ndarray,
        question: Question,
        rows: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
    ) -> np.ndarray:
        """The features the model reads of these candidates: the BY_BEST ones as shares of the
        best candidate's, and the semantic ones when the stage is on."""
        features = raw.copy()
        for name in BY_BEST:
            column = FEATURES.index(name)
            features[:, column] = _by_best(raw[:, column])
        if self.vectors is None:
            return features
        meaning = self._meaning(question, rows, start, end)
        return np.column_stack([features, *(meaning[name] for name in SEMANTIC_FEATURES)])

    def _meaning(
        self, question: Question, rows: np.ndarray, start: np.ndarray, end: np.ndarray
    ) -> dict[str, np.ndarray]:
        """The cosines of the question's vector with each candidate's, and with its window's
        (itself and its neighbours within the paragraph): one question vector computed."""
        asked = question_vector(question.text)
        vectors = self.vectors
        here = vectors.at(rows)
        before = np.where((rows > start)[:, None], vectors.at(np.maximum(rows - 1, 0)), 0)
        after_rows = np.minimum(rows + 1, len(vectors) - 1)
        after = np.where((rows + 1 < end)[:, None], vectors.at(after_rows), 0)
        window = here + before + after
        window /= np.maximum(np.linalg.norm(window, axis=1, keepdims=True), 1e-12)
        here_norm = np.maximum(np.linalg.norm(here, axis=1), 1e-12)
        # Row by row, not as one product: BLAS may sum a row in another order at another place
        # among the candidates, and equal passages must score equal wherever they are.
        return {
            "semantic": (here * asked).sum(axis=1) / here_norm,
            "semantic_window": (window * asked).sum(axis=1),
        }


def _candidates(
    found: Sequence[Hits], tie_order: Callable | None, nearest: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | slice]:
    """The candidates of every shard's hits together: their rows, and where each is in the
    hits' rows joined. The best CANDIDATES by score, then the others of their first PARAGRAPHS
    paragraphs (a paragraph is named by its first row), each paragraph's in order, then the
    `nearest` rows not among those, in their order (every shard's hits hold its own)."""
    if len(found) == 1:  # one index's hits are in that order already (Ranker.hits)
        return found[0].rows, slice(None)
    sizes = np.cumsum([0] + [len(h.rows) for h in found])
    at = np.concatenate([np.arange(len(h.scores)) + b for h, b in zip(found, sizes, strict=False)])
    rows = np.concatenate([h.rows for h in found])
    scores = np.concatenate([h.scores for h in found])
    keys = rows[at] if tie_order is None else tie_order(rows[at])
    best = at[np.lexsort((keys, -scores))[:CANDIDATES]]
    start = np.concatenate([h.start for h in found])
    paragraphs = list(dict.fromkeys(start[best].tolist()))[:PARAGRAPHS]
    taken = np.zeros(len(rows), bool)
    taken[best] = True
    others = np.flatnonzero(np.isin(start, paragraphs) & ~taken)
    # Paragraph by paragraph, in the order they were first found, then row by row.
    place = {p: i for i, p in enumerate(paragraphs)}
    others = others[np.lexsort((rows[others], [place[p] for p in start[others].tolist()]))]
    taken[others] = True
    near = []
    if nearest is not None and len(nearest):
        # A row is in one shard's hits only once: each shard holds its own rows.
        at_row = {row: i for i, row in enumerate(rows.tolist())}
        near = [at_row[row] for row in nearest.tolist() if not taken[at_row[row]]]
    chosen = np.concatenate([best, others, near]).astype(np.intp)
    return rows[chosen], chosen


class Ranker(Reranker):
    """Finds and orders candidate passages for a query over one index and passage table (or a
    shard of one: then `corpuswide` says what it reads of the whole, see Corpuswide)."""

    def __init__(
        self,
        index: BM25Index,
        table: PassageTable,
        titles: Sequence[str],
        analyzer: Analyzer,
        vectors: Vectors | None = None,
        corpuswide: Corpuswide | None = None,
    ) -> None:
        self.index, self.table, self.titles, self.analyzer = index, table, titles, analyzer
        self.vectors = vectors
        self.tie_order, self.live = index.tie_order, index.live
        self._corpuswide = corpuswide
        self._title_terms: dict[int, frozenset[str]] = {}
        # The candidates of many questions are the same few passages, with the same terms.
        self._surfaces = Memo(self._surface, SURFACES)
        self._paragraph_dfs = Memo(self._paragraph_df, LOOKUPS)

    @property
    def corpuswide(self) -> Corpuswide:
        """What it reads of the whole index: its own, unless it is a shard."""
        if self._corpuswide is None:
            self._corpuswide = Corpuswide(self._live_paragraphs, self._paragraph_dfs.__getitem__)
        return self._corpuswide

    @cached_property
    def paragraphs(self) -> tuple[np.ndarray, np.ndarray]:
        """Each passage's paragraph number, and the first passage of every paragraph (then N).

        The readers say where paragraphs open (the table's `opens`); other kinds of passage
        (infobox fields, list items) are paragraphs of their own, and a document opens one.
        """
        starts = self.table.columns["opens"].astype(bool)
        starts[self.table.doc_starts[:-1]] = True
        first = np.flatnonzero(starts)
        return np.cumsum(starts) - 1, np.append(first, len(self.table))

    @cached_property
    def _live_paragraphs(self) -> int:
        """How many paragraphs the live passages make (deleted ones wait in the table for a
        merge)."""
        first = self.paragraphs[1][:-1]
        live = self.index.live
        return len(first) if live is None else int(np.count_nonzero(live[first]))

    @cached_property
    def _cumulative_length(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.index.doc_len, dtype=np.int64)])

    def terms(self, query: Query) -> Terms:
        """The query's terms that the index holds, with their postings; the irregular forms of
        its words (Query.variants) after the others, each counted as its lead (Terms.lead)."""
        asked = set(query.terms or query.from_history)
        variants = query.variants
        # Each column's term, postings, query weight and asked weight.
        leads: list[tuple[str, Term, float, float]] = []
        missing: dict[str, float] = {}
        for term, weight in query.weights.items():
            if term in variants:
                continue
            found = self._found(term)
            own = weight if term in asked else 0.0
            if found is None:
                missing[term] = own
            else:
                leads.append((term, found, weight, own))
        place = {column[0]: j for j, column in enumerate(leads)}
        rest, lead = [], []
        for variant, term in variants.items():
            found = self._found(variant)
            if found is None:
                continue
            if term in place:
                rest.append((variant, found, 0.0, 0.0))
                lead.append(place[term])
            elif term in missing:
                # The question's own form is found nowhere: the variant stands in for it.
                place[term] = len(leads)
                leads.append((variant, found, query.weights[term], missing.pop(term)))
        columns = leads + rest
        return Terms(
            [name for name, _, _, _ in columns],
            [found.rows for _, found, _, _ in columns],
            [found for _, found, _, _ in columns],
            np.array([weight for _, _, weight, _ in columns]),
            np.array([own for _, _, _, own in columns]),
            np.array([found.idf for _, found, _, _ in columns]),
            sum(missing.values()),
            tuple(lead),
        )

    def _found(self, term: str) -> Term | None:
        """The term's postings here, empty ones when only other shards hold it, else None."""
        index = self.index
        found = index.term(term)
        if found is None and index.corpus_df is not None and index.corpus_df(term):
            found = index.absent(term)  # held by other shards
        return found

    def rank(
        self, query: Query, question: str | Question, mask: np.ndarray | None = None
    ) -> Ranking:
        """The candidates for a query, ordered by the model; `question` is the query's text (or
        its analysis)."""
        question = analyse(question)
        nearest = self.nearest(question, mask)
        return self.order([self.hits(query, question, mask, nearest)], question, nearest)

    def hits(
        self,
        query: Query,
        question: str | Question,
        mask: np.ndarray | None,
        nearest: np.ndarray | None = None,
    ) -> Hits:
        """Its part of the ranking of a query (see Hits), in its own rows; `nearest` are the
        rows nearest the question by meaning that it holds (Reranker.nearest)."""
        retrieved, scores = self.index.retrieve(query.weights, CANDIDATES, mask)
        if not len(retrieved) and (nearest is None or not len(nearest)):
            return Hits.none()
        terms = self.terms(query)
        rows = self.candidates(retrieved, mask, nearest)
        raw, present = self._raw_features(terms, analyse(question), rows)
        number, first = self.paragraphs
        start, end = first[number[rows]], first[number[rows] + 1]
        return Hits(rows, scores, start, end, raw, present, terms.names)

    def candidates(
        self, retrieved: np.ndarray, mask: np.ndarray | None, nearest: np.ndarray | None = None
    ) -> np.ndarray:
        """The retrieved rows, then the other rows of the first PARAGRAPHS paragraphs, then the
        `nearest` rows not among them."""
        number, first = self.paragraphs
        paragraphs = list(dict.fromkeys(number[retrieved].tolist()))[:PARAGRAPHS]
        taken = set(retrieved.tolist())
        extra = [
            row
            for p in paragraphs
            for row in range(int(first[p]), int(first[p + 1]))
            if row not in taken and (mask is None or mask[row])
        ]
        taken.update(extra)
        if nearest is not None:
            extra += [row for row in nearest.tolist() if row not in taken]
        return np.concatenate([retrieved, np.array(extra, np.intp)]).astype(np.intp)

    def features(self, terms: Terms, question: str | Question, rows: np.ndarray) -> np.ndarray:
        """The features the model reads of each candidate row, one row each."""
        question = analyse(question)
        number, first = self.paragraphs
        start, end = first[number[rows]], first[number[rows] + 1]
        raw = self._raw_features(terms, question, rows)[0]
        return self.finished(raw, question, rows, start, end)

    def _raw_features(
        self, terms: Terms, question: Question, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The FEATURES, the BY_BEST ones not yet shares of the best, and rows x terms: whether
        each row holds each term."""
        number, first = self.paragraphs
        start, end = first[number[rows]], first[number[rows] + 1]
        document = np.searchsorted(self.table.doc_starts, rows, "right") - 1
        doc_start, doc_end = self.table.doc_starts[document], self.table.doc_starts[document + 1]
        # What the question asks decides about the sentence; the conversation's earlier terms
        # only about where it is (its paragraph, its document). A variant counts as its lead.
        leads = terms.of_leads()
        q, asked, idf = leads.query, leads.asked, leads.idf
        unknown = terms.missing * self.index.max_idf()
        mass, context = asked * idf, q * idf
        total, context_total = mass.sum() + unknown, context.sum() + unknown

        # How many of each term's postings come before the rows before, at, after and two after
        # each candidate, and before the bounds of its paragraph and document: a row holds a
        # term when the count grows past it, and a span holds the difference.
        n = len(rows)
        bounds = [rows - 1, rows, rows + 1, rows + 2, start, end, doc_start, doc_end]
        reach = self._reach(terms, np.concatenate(bounds))
        near = self._weights_at(terms, reach[: 3 * n], reach[n : 4 * n] > reach[: 3 * n])
        held = near[n : 2 * n] > 0  # each term, variants apart: what the answer reports
        near = terms.joined(near)
        weights = near[n : 2 * n]
        present = weights > 0
        before = np.where((rows > start)[:, None], near[:n], 0)
        after = np.where((rows + 1 < end)[:, None], near[2 * n :], 0)
        window = present | (before > 0) | (after > 0)
        # A term's weights are all positive or none is (they share its idf's sign), and a
        # paragraph counts the sentences where the term weighs.
        in_paragraph = terms.joined((reach[5 * n : 6 * n] - reach[4 * n : 5 * n]) * (terms.idf > 0))
        in_document = terms.joined(reach[7 * n :] - reach[6 * n : 7 * n])

        local_idf = _idf(doc_end - doc_start, in_document)
        absent_idf = np.log(doc_end - doc_start + 0.5) - math.log(0.5)
        local_total = local_idf @ asked + terms.missing * absent_idf
        rescale = np.divide(local_idf, idf, out=np.zeros_like(local_idf), where=idf > 0)
        length = self.index.doc_len[rows].astype(float)

        columns = {
            "coverage": _share(present @ mass, total),
            "local_bm25": (weights * rescale) @ asked,
            "local_coverage": _share((present * local_idf) @ asked, local_total),
            "window_coverage": _share(window @ mass, total),
            "previous_bm25": before @ q,
            # What the next sentence adds of the question: it often goes on about the subject.
            "next_coverage": _share(((after > 0) & ~present) @ mass, total),
            "paragraph_bm25": self._paragraph_bm25(leads, start, end, in_paragraph),
            "document_coverage": _share((in_document > 0) @ context, context_total),
            "title_coverage": _share(self._in_title(leads, document) @ context, context_total),
            "length": np.log1p(length),
            **self._answer_kind(question, rows),
        }
        return np.array([columns[name] for name in FEATURES]).T.reshape(n, -1), held

    def _reach(self, terms: Terms, rows: np.ndarray) -> np.ndarray:
        """rows x terms: how many of each term's postings are below each row."""
        # In the postings' own type: searchsorted would otherwise copy the postings to convert
        # them, which costs in proportion to their length (a millisecond for a common term).
        rows = rows.astype(self.index.row_type)
        out = np.empty((len(rows), len(terms)), np.intp)
        for j, postings in enumerate(terms.postings):
            out[:, j] = np.searchsorted(postings, rows.astype(postings.dtype, copy=False))
        return out

    def _weights_at(self, terms: Terms, places: np.ndarray, held: np.ndarray) -> np.ndarray:
        """The weight of each term's posting at `places` (rows x terms) where held, else 0."""
        places = np.minimum(places, [max(len(p) - 1, 0) for p in terms.postings])
        out = np.zeros(places.shape)
        for j, term in enumerate(terms.found):
            if len(term.rows):  # a term that only other shards hold weighs nothing here
                out[:, j] = term.weights_at(places[:, j])
        return np.where(held, out, 0.0)

    def _paragraph_bm25(
        self, terms: Terms, start: np.ndarray, end: np.ndarray, tf: np.ndarray
    ) -> np.ndarray:
        """BM25 of each row's paragraph [start, end), where `tf` counts the sentences that hold
        each term."""
        corpuswide = self.corpuswide
        paragraphs = corpuswide.paragraphs
        lengths = self._cumulative_length[end] - self._cumulative_length[start]
        average = self.index.stats.length / paragraphs
        idf = _idf(paragraphs, np.array([corpuswide.paragraph_df(name) for name in terms.names]))
        norm = PARAGRAPH_K1 * (1 - PARAGRAPH_B + PARAGRAPH_B * lengths / average)
        return (idf * tf * (PARAGRAPH_K1 + 1) / (tf + norm[:, None])) @ terms.query

    def _paragraph_df(self, term: str) -> int:
        """How many of its live paragraphs hold the term."""
        rows = self.index.live_rows(term)
        if not len(rows):
            return 0
        return 1 + int(np.count_nonzero(np.diff(self.paragraphs[0][rows])))

    def _in_title(self, terms: Terms, documents: np.ndarray) -> np.ndarray:
        """rows x terms: whether each row's document title holds each term."""
        present, at = np.unique(documents, return_inverse=True)
        # Document by document, then spread to their rows in one indexing.
        held = [[name in self._title(d) for name in terms.names] for d in present.tolist()]
        return np.array(held, bool).reshape(len(present), len(terms))[at.reshape(-1)]

    def _title(self, document: int) -> frozenset[str]:
        """The terms of a document's title, remembered."""
        if document not in self._title_terms:
            self._title_terms[document] = frozenset(self.analyzer.terms(self.titles[document]))
        return self._title_terms[document]

    def _surface(self, row: int) -> Surface:
        return Surface.of(self.table.text(row))

    def _surfaces_at(self, rows: list[int]) -> list[Surface]:
        """The Surface of each row; those not remembered are made together (see `surfaces`)."""
        memo = self._surfaces
        missing = [row for row in dict.fromkeys(rows) if row not in memo]
        made = dict(zip(missing, surfaces(self.table.texts(missing)), strict=True))
        # Read before remembering the new ones, which may forget the rest.
        found = list(map(made.get, rows, map(memo.get, rows)))
        memo.remember(made)
        return found

    def _answer_kind(self, question: Question, rows: np.ndarray) -> dict[str, np.ndarray]:
        """What each sentence says that the question does not (new words, names, numbers), and
        whether it holds what the question word asks for."""
        asked = question.word
        known = set(tokens(question.text))
        surfaces = self._surfaces_at(rows.tolist())
        n = len(surfaces)
        counts = np.array([s.overlap(known) for s in surfaces], float).reshape(n, 4)
        words_known, names_known, names, size = counts.T
        when_date, count_number = np.zeros(n), np.zeros(n)
        if asked == "when":
            when_date[:] = [s.has_date for s in surfaces]
        elif asked == "how many":
            count_number[:] = [s.new_number(known) for s in surfaces]
        return {
            # The share of the sentence's words that the question does not have.
            "novelty": 1 - words_known / size if known else np.ones(n),
            "new_names": (names - names_known) / size,
            "when_date": when_date,
            "count_number": count_number,
        }


class Surface:
    """A sentence's folded words and its names; its numbers and whether it has a date are read
    only when a question asks for them (`how many`, `when`)."""

    def __init__(self, text: str, words: list[str]) -> None:
        """The surface of a text whose `tokens` are `words`."""
        self.text = text
        # A list, not counts: most surfaces are made for one question and read once, and
        # counting costs more than the one pass that reading the list takes.
        self.words = words
        self.size = max(len(words), 1)
        # One text at a time: the names of texts joined would need their places to be split
        # back, which costs more than the calls saved.
        names = NAME_WORD.findall(text)
        # The first word is left out, as it is capitalized whatever it is.
        if names and NAME_WORD.match(text):
            del names[0]
        self.names = tuple(map(str.lower if text.isascii() else fold, names))

    @classmethod
    def of(cls, text: str) -> Surface:
        return cls(text, tokens(text))

    @cached_property
    def numbers(self) -> tuple[str, ...]:
        """Folded, without thousands separators."""
        return tuple(fold(n).replace(",", "") for n in NUMBER_TOKEN.findall(self.text))

    @cached_property
    def has_date(self) -> bool:
        return HAS_DATE.search(self.text) is not None

    def overlap(self, known: set[str]) -> tuple[int, int, int, int]:
        """How many of its words and of its names are `known`, how many names it has, its size."""
        names = self.names
        return (
            sum(map(known.__contains__, self.words)),
            sum(map(known.__contains__, names)),
            len(names),
            self.size,
        )

    def new_number(self, known: set[str]) -> bool:
        return any(n not in known for n in self.numbers)


def surfaces(texts: list[str]) -> list[Surface]:
    """The `Surface.of` each text, their tokens found in one pass over them all."""
    return list(map(Surface, texts, tokens_of_texts(texts)))


def _idf(n: np.ndarray | int, df: np.ndarray) -> np.ndarray:
    """BM25's idf of terms in df of n passages (or paragraphs), never below zero."""
    n = np.asarray(n)[..., None] if np.ndim(n) else n
    return np.maximum(np.log(n - df + 0.5) - np.log(df + 0.5), 0.0)


def _share(part: np.ndarray, total: float | np.ndarray) -> np.ndarray:
    return np.divide(part, total, out=np.zeros(len(part)), where=np.asarray(total) > 0)


# Features that are scores, made shares of the best candidate's once every shard's are together.
BY_BEST = ("local_bm25", "previous_bm25", "paragraph_bm25")


def _by_best(values: np.ndarray) -> np.ndarray:
    """Scores as a share of the best candidate's, so that features compare across questions."""
    best = values.max() if len(values) else 0.0
    return values / best if best > 0 else np.zeros(len(values))


@lru_cache(maxsize=256)
def question_vector(text: str) -> np.ndarray:
    """The semantic stage's vector of a question, made once for its candidates and their
    features (qa.semantic is imported only when the stage is on)."""
    from qa.semantic.encoder import encoder

    vector = encoder().encode([text])[0]
    vector.flags.writeable = False
    return vector


def evidence(features: np.ndarray, best: int) -> np.ndarray:
    """The EVIDENCE of a ranking: what the answerability model reads, from the candidates'
    features (one row each) and the best one's row."""
    most = features[:, [FEATURES.index("window_coverage"), FEATURES.index("coverage")]].max(0)
    return np.concatenate([most, features[best]])


@cache
def abstention_model(
    path: Path = MODEL, features: tuple[str, ...] = FEATURES
) -> tuple[np.ndarray, float]:
    """The answerability model's weights of the evidence and its bias, the calibrated threshold
    folded in (log-odds below zero: abstain); ValueError when fitted on other evidence."""
    model = json.loads(path.read_text("utf-8"))["abstention"]
    if tuple(model["evidence"]) != evidence_names(features):
        raise ValueError(f"{path} was fitted on other evidence; run python -m qa.tools.fit")
    return np.array(model["weights"], float), float(model["bias"])


@cache
def model_weights(path: Path = MODEL, features: tuple[str, ...] = FEATURES) -> np.ndarray:
    """The fitted weights of the features; ValueError when the file was fitted on others."""
    model = json.loads(path.read_text("utf-8"))
    if tuple(model["features"]) != features:
        raise ValueError(f"{path} was fitted on other features; run python -m qa.tools.fit")
    return np.array(model["weights"], float)
