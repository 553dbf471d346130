import random
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from qa.common.vocabulary import Vocabulary, _hash, _hashes, _packed
from qa.index.bm25 import BM25Index
from qa.index.build import read_corpus
from qa.text.analyze import Analyzer
from tests.helpers import DEFAULT_CORPUS, zipf_corpus


@pytest.fixture(scope="module")
def corpus() -> list[list[str]]:
    return zipf_corpus(4000)


@pytest.mark.parametrize(
    "params", [{}, {"k1": 0.9, "b": 0.4}, {"k1": 2.0, "b": 0.9, "epsilon": 0.5}]
)
def test_scores_equal_rank_bm25(corpus, params):
    reference = BM25Okapi(corpus, **params)
    index = BM25Index(**params).index(corpus)
    rng = random.Random(1)
    for _ in range(50):
        query = rng.choices([f"t{i}" for i in range(2100)], k=rng.randint(1, 6))
        np.testing.assert_allclose(
            index.scores(query), reference.get_scores(query), rtol=1e-12, atol=1e-12
        )


def test_negative_idf_floor_matches(corpus):
    reference = BM25Okapi(corpus)
    index = BM25Index().index(corpus)
    common = "t0"  # the most frequent term, in more than half of the documents
    assert sum(common in doc for doc in corpus) > len(corpus) / 2
    assert reference.idf[common] == pytest.approx(0.25 * reference.average_idf)
    np.testing.assert_allclose(index.scores([common]), reference.get_scores([common]), rtol=1e-12)


def test_scores_equal_rank_bm25_on_real_passages():
    analyzer = Analyzer()
    tokens = [analyzer.terms(p.text) for p in read_corpus(DEFAULT_CORPUS).passages()]
    reference, index = BM25Okapi(tokens), BM25Index().index(tokens)
    for question in ["Who backed the YPG?", "suicide bombers prison 4 June", "Kobanî Hasakah city"]:
        query = analyzer.terms(question)
        np.testing.assert_allclose(index.scores(query), reference.get_scores(query), rtol=1e-12)


def test_retrieve_returns_best_first_and_only_positive(corpus):
    index = BM25Index().index(corpus)
    ids, scores = index.retrieve(["t5", "t77"], k=10)
    full = index.scores(["t5", "t77"])
    assert list(scores) == sorted(scores, reverse=True)
    assert np.all(scores > 0)
    assert scores[0] == full.max()
    assert index.retrieve(["never-seen"], k=10)[0].size == 0


def test_retrieve_with_mask(corpus):
    index = BM25Index().index(corpus)
    mask = np.zeros(index.size, dtype=bool)
    mask[:100] = True
    ids, _ = index.retrieve(["t1"], k=50, mask=mask)
    assert ids.size and np.all(ids < 100)


def test_weighted_query_is_a_weighted_sum(corpus):
    index = BM25Index().index(corpus)
    expected = 2 * index.scores(["t3"]) + 0.5 * index.scores(["t9"])
    np.testing.assert_allclose(index.scores({"t3": 2, "t9": 0.5}), expected)


def test_save_and_load_round_trip(tmp_path, corpus):
    index = BM25Index(k1=1.2, b=0.6).index(corpus)
    index.save(tmp_path)
    loaded = BM25Index.load(tmp_path)
    assert (loaded.k1, loaded.b) == (1.2, 0.6)
    assert loaded.vocabulary == index.vocabulary
    np.testing.assert_array_equal(loaded.scores(["t4", "t8"]), index.scores(["t4", "t8"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=30), max_size=50))
def test_a_vocabulary_hashes_all_terms_at_once_as_one_by_one(terms):
    assert _hashes(*_packed(terms)).tolist() == [_hash(t) for t in terms]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=40), st.text(max_size=8))
def test_a_vocabulary_finds_each_term_and_no_other(terms, other):
    vocabulary, column = Vocabulary.build(terms)
    assert [vocabulary[t] for t in terms] == column.tolist()
    assert (other in vocabulary) == (other in terms)


# Queries of the zipf index's terms t0..t300, each weighed.
ZIPF_TERMS = st.lists(st.integers(0, 300), min_size=1, max_size=6)
QUERY_WEIGHTS = st.lists(st.floats(0.1, 3.0), min_size=6, max_size=6)


def _zipf_query(terms: list[int], weights: list[float]) -> dict[str, float]:
    return {f"t{t}": w for t, w in zip(terms, weights[: len(terms)], strict=True)}


def every_posting_scored(index: BM25Index, query, k: int, mask=None):
    return index._retrieve_all(index._query_terms(query), k, mask)


@settings(max_examples=200, deadline=None)
@given(ZIPF_TERMS, QUERY_WEIGHTS, st.integers(1, 60), st.booleans())
def test_pruned_retrieval_finds_what_scoring_every_posting_finds(terms, weights, k, masked):
    index, query = _zipf_index(), _zipf_query(terms, weights)
    mask = np.arange(index.size) % 3 != 0 if masked else None
    rows, scores = index.retrieve(query, k, mask)
    expected_rows, expected_scores = every_posting_scored(index, query, k, mask)
    assert rows.tolist() == expected_rows.tolist()
    assert scores.tolist() == expected_scores.tolist()  # the same floats, not just close


@settings(max_examples=200, deadline=None)
@given(ZIPF_TERMS, QUERY_WEIGHTS, st.integers(1, 60), st.booleans())
def test_scoring_every_posting_finds_the_best_of_all_scores(terms, weights, k, masked):
    # The compiled pass (qa.index.compiled) against every passage's score made with NumPy.
    index, query = _zipf_index(), _zipf_query(terms, weights)
    mask = np.arange(index.size) % 3 != 0 if masked else np.ones(index.size, bool)
    every = index.scores(query)
    kept = np.flatnonzero((every > 0) & mask)
    best = kept[np.lexsort((kept, -every[kept]))][:k]  # ties: the earlier row first
    rows, scores = every_posting_scored(index, query, k, mask if masked else None)
    assert rows.tolist() == best.tolist()
    assert scores.tolist() == every[best].tolist()  # the same floats, not just close
    assert not index._buffer().any()  # left cleared for the next query


def test_pruned_retrieval_passes_over_the_common_terms(corpus, monkeypatch):
    index = BM25Index().index(corpus)
    query = ["t0", "t1", "t2", "t1500"]  # three terms in most documents, one rare
    common = sum(index.document_frequency(t) for t in query[:3])
    scored = []
    whole = index._scored

    def counted(terms, rows, mask):
        scored.append(len(rows))
        return whole(terms, rows, mask)

    monkeypatch.setattr(index, "_scored", counted)
    rows, scores = index.retrieve(query, 5)
    assert scored and max(scored) < common / 10  # the common terms' passages were not scored
    assert rows.tolist() == every_posting_scored(index, query, 5)[0].tolist()
    np.testing.assert_allclose(scores, index.scores(query)[rows])


@cache
def _zipf_index() -> BM25Index:
    return BM25Index().index(zipf_corpus(4000))
