"""Irregular forms: a question's word also searches the forms that share its lemma (qa.text.lemmas,
Query.variants), and the ranker counts such a form as the word itself."""

from __future__ import annotations

import numpy as np
import pytest

from qa.answer import query as answer
from qa.answer import rank
from qa.answer.engine import Engine
from qa.text.lemmas import irregular_family, lemma

DOCUMENT = """= Convoys =

One of them drove a tanker into the checkpoint. The convoy fled north before dawn.

The children of the village were moved to the school. A tanker was parked by the gate.

The market opened at noon. The drive to the coast took a day.
Rain fell over the hills for a week. The bridge was rebuilt in stone.
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "convoys.txt").write_text(DOCUMENT, "utf-8")
    return Engine.open(folder, tmp_path_factory.mktemp("index"))


@pytest.mark.parametrize(
    ("word", "family"),
    [
        ("drive", ("driven", "drove")),
        ("drove", ("drive", "driven")),
        ("fled", ("flee",)),
        ("flee", ("fled",)),
        ("children", ("child",)),
        ("went", ("go", "gone")),
    ],
)
def test_an_irregular_word_has_the_forms_of_its_lemma(word, family):
    assert irregular_family(word) == family


@pytest.mark.parametrize("word", ["tanker", "Kobanî", "4,000", "al_x"])
def test_words_without_irregular_forms_names_and_figures_have_no_family(word):
    assert irregular_family(word) == ()


def test_regular_forms_add_no_terms_to_a_question(engine):
    # Their families (`kill`, `troop`, `die`) stem as the question's own words do.
    query = answer.build_query(engine.analyzer, "How many troops were killed when they died?")
    assert query.variants == {} and sorted(query.weights) == ["die", "kill", "troop"]


def test_a_regular_inflection_is_left_to_the_stemmer():
    assert lemma("added") == "added" and lemma("saw") == "saw" and lemma("drove") == "drive"


def test_a_question_searches_the_irregular_forms_of_its_words(engine):
    query = answer.build_query(engine.analyzer, "Who drives the tanker?")
    assert query.terms == ["drive", "tanker"]
    assert query.variants == {"driven": "drive", "drove": "drive"}
    assert query.weights["drove"] == query.weights["drive"]


def test_a_form_counts_as_the_question_word_it_stands_for(engine):
    question = "Who drives the tanker?"
    ranking = engine.ranker.rank(answer.build_query(engine.analyzer, question), question)
    first = engine.passages[int(ranking.rows[0])].text
    assert first == "One of them drove a tanker into the checkpoint."
    # Reported as the term the sentence holds, which the page marks in the sentence's own words.
    assert set(ranking.matched(0)) == {"drove", "tanker"}
    query = answer.build_query(engine.analyzer, question)
    terms = engine.ranker.terms(query)
    # `drove` is a column of its own, joined to the question's `drive` in every feature.
    assert terms.names == ["drive", "tanker", "drove"] and terms.lead == (0,)
    assert terms.of_leads().names == ["drive", "tanker"]
    rows = np.array(ranking.rows)
    features = engine.ranker.features(terms, question, rows)
    coverage = dict(zip(rows.tolist(), features[:, rank.FEATURES.index("coverage")], strict=True))
    assert coverage[int(ranking.rows[0])] == pytest.approx(1.0)


def test_a_form_stands_in_for_a_question_word_the_documents_lack(engine):
    query = answer.build_query(engine.analyzer, "Where did the convoy flee?")
    terms = engine.ranker.terms(query)
    # `flee` is found nowhere, so `fled` takes its place and weight; nothing is missing.
    assert terms.names == ["convoy", "fled"] and terms.lead == ()
    assert terms.asked.tolist() == [1.0, 1.0] and terms.missing == 0.0
    answered = engine.ask("Where did the convoy flee?")
    assert not answered.abstained
    assert answered.citations[0].text == "The convoy fled north before dawn."


def test_a_question_without_irregular_forms_searches_as_before(engine):
    query = answer.build_query(engine.analyzer, "Where was the tanker parked?")
    assert query.variants == {}
    terms = engine.ranker.terms(query)
    assert terms.of_leads() is terms and terms.lead == ()
