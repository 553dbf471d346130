"""The re-ranker: paragraphs, candidates, features, the fitted model and its fitting."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.answer import query as answer
from qa.answer import rank
from qa.answer.engine import Engine
from qa.ingest.corpus import build_document
from qa.ingest.passages import JoinedTable, PassageTable
from qa.text.analyze import BREAK, fold, tokens, tokens_of_texts
from qa.tools import evaluate, fit
from tests.helpers import DEFAULT_CORPUS

DOCUMENT = """= Rivers of Testland =

Infobox
- Length: 120 km
- Source: Mount Example

The Alpha river rises on Mount Example. It flows north
through the plain. It reaches the sea at Portville.

The Beta river is shorter. It joins the Alpha in 1850.

== Floods ==
In 1901 the Alpha flooded the plain. Portville was under water for ten days.
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "rivers.txt").write_text(DOCUMENT, "utf-8")
    (folder / "songs.txt").write_text("= Other =\n\nThe Alpha river is also a song.\n", "utf-8")
    return Engine.open(folder, tmp_path_factory.mktemp("index"))


def texts(engine: Engine, rows) -> list[str]:
    return [engine.passages[int(r)].text for r in rows]


def test_paragraphs_are_blocks_of_prose_and_single_fields(engine):
    number, first = engine.ranker.paragraphs
    groups = [texts(engine, range(a, b)) for a, b in zip(first, first[1:], strict=False)]
    assert [len(g) for g in groups] == [1, 1, 3, 2, 2, 1]
    assert groups[2][1] == "It flows north through the plain."
    assert groups[4][0].startswith("In 1901")  # a heading starts a new paragraph
    assert groups[5] == ["The Alpha river is also a song."]  # and so does a new document
    assert number.tolist() == [0, 1, 2, 2, 2, 3, 3, 4, 4, 5]


def features_and_weights(engine: Engine, question: str, rows: np.ndarray):
    """The question's terms, the rows' features, and each term's weight in every passage (from
    the index's own scoring of that term alone)."""
    terms = engine.ranker.terms(answer.build_query(engine.analyzer, question))
    features = engine.ranker.features(terms, question, rows)
    every = np.column_stack([engine.index.scores({name: 1.0}) for name in terms.names])
    return terms, features, every


@pytest.mark.parametrize("rows", [list(range(10)), [9, 3, 4, 0, 6, 2]])
def test_neighbour_and_paragraph_features_agree_with_a_count_row_by_row(engine, rows):
    rows = np.array(rows)
    terms, features, every = features_and_weights(
        engine, "Where does the Alpha river flood the plain?", rows
    )
    ranker = engine.ranker
    number, first = ranker.paragraphs
    start, end = first[number[rows]], first[number[rows] + 1]
    previous = np.array(
        [every[r - 1] @ terms.query if r > s else 0.0 for r, s in zip(rows, start, strict=True)]
    )
    held = np.array([(every[s:e] > 0).sum(axis=0) for s, e in zip(start, end, strict=True)])
    paragraph = ranker._paragraph_bm25(terms, start, end, held)
    column = features[:, rank.FEATURES.index("previous_bm25")]
    assert column == pytest.approx(previous / previous.max())
    column = features[:, rank.FEATURES.index("paragraph_bm25")]
    assert column == pytest.approx(paragraph / paragraph.max())


@pytest.mark.parametrize("rows", [list(range(10)), [9, 3, 4, 0, 6, 2], [5]])
def test_coverage_features_agree_with_a_count_row_by_row(engine, rows):
    rows = np.array(rows)
    terms, features, weights = features_and_weights(
        engine, "Where did the Alpha river flood Portville in 1901?", rows
    )
    every = weights > 0
    number, first = engine.ranker.paragraphs
    docs = engine.corpus.table.doc_starts
    mass, context = terms.asked * terms.idf, terms.query * terms.idf
    window, in_document = [], []
    for r in rows.tolist():
        s, e = first[number[r]], first[number[r] + 1]
        window.append(every[max(r - 1, s) : min(r + 2, e)].any(axis=0))
        d = np.searchsorted(docs, r, "right") - 1
        in_document.append(every[docs[d] : docs[d + 1]].any(axis=0))
    expected = {
        "coverage": every[rows] @ mass / mass.sum(),
        "window_coverage": np.array(window) @ mass / mass.sum(),
        "document_coverage": np.array(in_document) @ context / context.sum(),
    }
    for name, values in expected.items():
        assert features[:, rank.FEATURES.index(name)] == pytest.approx(values), name


def test_the_paragraph_of_a_retrieved_sentence_joins_the_candidates(engine):
    query = answer.build_query(engine.analyzer, "Where does the river reach the sea?")
    retrieved, _ = engine.index.retrieve(query.weights, 1)
    rows = engine.ranker.candidates(retrieved, None)
    assert rows[0] == retrieved[0]
    assert "It flows north through the plain." in texts(engine, rows)


def test_candidates_stay_within_the_documents_asked_for(engine):
    ranking = engine.ranker.rank(
        answer.build_query(engine.analyzer, "Alpha river"), "Alpha river", np.arange(10) == 9
    )
    assert texts(engine, ranking.rows) == ["The Alpha river is also a song."]


def test_the_ranking_is_a_distribution_best_first_with_matched_terms(engine):
    question = "When did the Alpha flood the plain?"
    ranking = engine.ranker.rank(answer.build_query(engine.analyzer, question), question)
    assert ranking.probabilities.sum() == pytest.approx(1.0)
    assert (np.diff(ranking.probabilities) <= 0).all()
    assert texts(engine, ranking.rows[:1]) == ["In 1901 the Alpha flooded the plain."]
    assert set(ranking.matched(0)) == {"alpha", "flood", "plain"}
    assert ranking.support == pytest.approx(1.0)


def test_features_are_finite_and_in_order(engine):
    question = "How many days was Portville under water?"
    query = answer.build_query(engine.analyzer, question)
    ranker = engine.ranker
    rows = ranker.candidates(engine.index.retrieve(query.weights, 5)[0], None)
    features = ranker.features(ranker.terms(query), question, rows)
    assert features.shape == (len(rows), len(rank.FEATURES))
    assert np.isfinite(features).all()
    count = features[:, rank.FEATURES.index("count_number")]
    assert count[texts(engine, rows).index("Portville was under water for ten days.")] == 1.0


def test_a_follow_up_is_judged_on_its_own_terms(engine):
    query = answer.build_query(engine.analyzer, "When did it flood?", ["Tell me about Portville"])
    terms = engine.ranker.terms(query)
    asked = dict(zip(terms.names, terms.asked, strict=True))
    assert asked["flood"] == 1.0 and asked["portvill"] == 0.0


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many soldiers died?", "how many"),
        ("In what year was it built?", "when"),
        ("Whose idea was it?", "who"),
        ("Which river is longer?", "which"),
        ("Name the river.", "other"),
    ],
)
def test_question_words(question, kind):
    assert rank.question_word(question) == kind


# Capitals, word characters within and beyond ASCII, hyphens and what separates words.
SURFACE_TEXT = st.text("AZaz09_-é É'’ .,\n", max_size=40) | st.text(max_size=40)


@settings(max_examples=500, deadline=None)
@given(SURFACE_TEXT, st.lists(st.text("azé09 ", max_size=6), max_size=6))
def test_a_surface_holds_its_words_and_the_names_after_its_first_word(text, known):
    surface, known = rank.Surface.of(text), set(known)
    names = [fold(m[0]) for m in re.finditer(r"\b[A-Z][\w-]+", text) if m.start()]
    words = Counter(tokens(text))
    assert surface.overlap(known) == (
        sum(words[w] for w in known),
        sum(name in known for name in names),
        len(names),
        max(len(tokens(text)), 1),
    )
    assert list(surface.names) == names


def real_documents() -> list:
    """The default corpus's documents and the SQuAD slice's paragraphs, as they are indexed."""
    files = sorted(DEFAULT_CORPUS.glob("*.txt"))
    documents = [build_document(f.stem, f.name, f.read_text("utf-8")) for f in files]
    articles, _ = evaluate.read_squad(Path(__file__).parent / "data" / "squad-dev-slice.json")
    contexts = [c for article in articles for c in article.paragraphs]
    return documents + [build_document(f"squad-{n}", "p.txt", c) for n, c in enumerate(contexts)]


# Beyond the real passages: non-ASCII text, texts that start with a name, hold no name or are
# empty, and texts that hold BREAK themselves (read one by one).
ODD_TEXTS = [
    "Kobanî fell to ISIL; the Kurds of Al-Hasakah held.",
    "Al-Hasakah is a city.",
    "",
    "no names at all, 4,000 of them and 3.5 more",
    "Σίσυφος and ΑΣ met Émile O'Neill in Zürich.",
    "x-Foo -Bar _Baz İstanbul ǅemal",
    "km² of ʼapostrophes’ and don't",
    "line\nbreak\nAlpha",
]


def assert_surfaces_equal(texts: list[str]) -> None:
    batched, one_by_one = rank.surfaces(texts), list(map(rank.Surface.of, texts))
    assert tokens_of_texts(texts) == list(map(tokens, texts))
    for many, one in zip(batched, one_by_one, strict=True):
        assert (many.text, many.words, many.names, many.size) == (
            one.text,
            one.words,
            one.names,
            one.size,
        )


def test_surfaces_made_together_are_those_made_one_by_one():
    texts = [p.text for d in real_documents() for p in d.passages]
    assert len(texts) > 500 and not all(map(str.isascii, texts))
    for start in range(0, len(texts), 70):  # as many as a question's candidates
        assert_surfaces_equal(texts[start : start + 70])
    assert_surfaces_equal(ODD_TEXTS)
    assert_surfaces_equal(texts[:5] + ODD_TEXTS + texts[5:10])
    assert_surfaces_equal(texts[:5] + [f"A {BREAK} B"] + texts[5:10])
    assert_surfaces_equal([])


@settings(max_examples=300, deadline=None)
@given(st.lists(SURFACE_TEXT, max_size=8))
def test_surfaces_of_any_texts_are_those_made_one_by_one(texts):
    assert_surfaces_equal(texts)


def test_texts_of_rows_are_their_texts_one_by_one():
    documents = real_documents()
    table = PassageTable.from_documents(documents)
    joined = JoinedTable([PassageTable.from_documents(documents[:2]), table])
    rows = [5, 0, len(table) + 3, 7, 5, len(joined) - 1, 1]
    assert joined.texts(rows) == [joined.text(r) for r in rows]
    assert table.texts(rows[:2]) == [table.text(r) for r in rows[:2]]
    assert joined.texts([]) == table.texts([]) == []


def test_the_ranker_remembers_the_surfaces_it_makes(engine, monkeypatch):
    ranker = engine.ranker
    ranker._surfaces.clear()
    rows = [3, 1, 3, 0]
    made = ranker._surfaces_at(rows)
    assert [s.text for s in made] == texts(engine, rows) and made[0] is made[2]
    assert ranker._surfaces_at([1])[0] is made[1]
    # New ones that would pass the bound: all is forgotten first.
    monkeypatch.setattr(ranker._surfaces, "bound", 3)
    again = ranker._surfaces_at([2, 4, 1])
    assert again[2] is made[1] and set(ranker._surfaces) == {2, 4}
    assert ranker._surfaces_at([4])[0] is again[1] and set(ranker._surfaces) == {2, 4}


def test_the_shipped_model_fits_the_features():
    assert len(rank.model_weights()) == len(rank.FEATURES)


def test_a_model_fitted_on_other_features_is_refused(tmp_path):
    path = tmp_path / "ranker.json"
    path.write_text(json.dumps({"features": ["bm25"], "weights": [1.0]}), "utf-8")
    with pytest.raises(ValueError, match="other features"):
        rank.model_weights(path)


def test_fitting_finds_the_feature_that_marks_the_right_candidate():
    rng = np.random.default_rng(0)
    groups = []
    for _ in range(50):
        features = rng.normal(size=(6, 2))
        right = np.zeros(6, bool)
        right[np.argmax(features[:, 0])] = True
        groups.append((features, right))
    weights = fit.fit(groups)
    assert weights[0] > 1 and abs(weights[1]) < weights[0] / 4


def test_fitting_backs_a_feature_that_marks_one_of_several_right_candidates():
    # Two of six candidates hold the answer and a feature marks one of them: ranking it first
    # is a hit, so the fit backs the feature fully instead of sharing out the probability
    # evenly between the two right ones (which would stop at a weight of log 5).
    groups = []
    for marked in range(6):
        features = np.zeros((6, 1))
        features[marked] = 1.0
        right = np.zeros(6, bool)
        right[[marked, (marked + 1) % 6]] = True
        groups.append((features, right))
    assert fit.fit(groups)[0] > 4


def test_the_shipped_abstention_model_reads_the_evidence():
    weights, bias = rank.abstention_model()
    assert len(weights) == len(rank.EVIDENCE) and np.isfinite(bias)


def test_an_abstention_model_fitted_on_other_evidence_is_refused(tmp_path):
    path = tmp_path / "ranker.json"
    model = {"abstention": {"evidence": ["support"], "weights": [1.0], "bias": 0.0}}
    path.write_text(json.dumps(model), "utf-8")
    with pytest.raises(ValueError, match="other evidence"):
        rank.abstention_model(path)


def test_abstention_is_calibrated_to_the_rate_of_answerable_questions_it_may_lose():
    rng = np.random.default_rng(0)
    answerable = rng.normal(1.0, 1.0, size=(2000, 2))
    unanswerable = rng.normal(-1.0, 1.0, size=(2000, 2))
    weights, bias = fit.fit_abstention(answerable, unanswerable, rate=0.01)
    assert (answerable @ weights + bias < 0).mean() == pytest.approx(0.01, abs=0.002)
    assert (unanswerable @ weights + bias < 0).mean() > 0.1
    assert weights.min() > 0  # more evidence, more likely answerable


def test_a_ranking_of_a_question_the_documents_answer_is_answerable(engine):
    question = "When did the Alpha flood the plain?"
    ranking = engine.ranker.rank(answer.build_query(engine.analyzer, question), question)
    assert ranking.answerable > 0
