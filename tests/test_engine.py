"""The answer engine on the default corpus, end to end."""

import json

import pytest

from qa.answer.model import as_json
from qa.text.analyze import fold
from tests.helpers import ANSWER_KEYS, DATA

SEEDS = [json.loads(line) for line in (DATA / "seeds-dev.jsonl").read_text("utf-8").splitlines()]


def rank_of_answer(result: dict, answers: list[str]) -> int | None:
    for citation in result["citations"]:
        if any(fold(a) in fold(citation["text"]) for a in answers):
            return citation["n"]
    return None


@pytest.mark.parametrize(
    "case",
    [q for q in SEEDS if q["type"] in ("factoid", "paraphrase", "followup")],
    ids=lambda q: q["id"],
)
def test_answerable_seed_questions_hit_in_top_3(engine, case):
    result = as_json(engine.ask(case["question"], case.get("history", []), k=5))
    assert not result["abstained"]
    rank = rank_of_answer(result, case["answers"])
    assert rank is not None and rank <= 3, result["citations"][:3]


@pytest.mark.parametrize(
    "case", [q for q in SEEDS if q["type"] == "abstain"], ids=lambda q: q["id"]
)
def test_unanswerable_seed_questions_abstain(engine, case):
    result = as_json(engine.ask(case["question"]))
    assert result["abstained"] is True
    assert result["citations"] == []
    assert "do not contain" in result["answer"]


def test_answer_object_shape(engine):
    result = as_json(engine.ask("Who backed the YPG in its May 2015 offensive?", k=3))
    assert set(result) == ANSWER_KEYS
    assert result["abstained"] is False and 1 <= len(result["citations"]) <= 3
    first = result["citations"][0]
    assert first["n"] == 1
    assert first["passage_id"] == "al-hasakah-city-offensive:12"
    assert first["document"] == {
        "id": "al-hasakah-city-offensive",
        "title": "Al-Hasakah city offensive",
    }
    assert first["section"] == "Background"
    assert "Assyrian Syriac Military Council" in first["text"]
    assert {"ypg", "back", "offens"} <= set(first["matched_terms"])
    assert first["context"]["before"] and first["context"]["after"]
    text = (engine.corpus_dir / "al-hasakah-city-offensive.txt").read_text("utf-8")
    assert text[first["start"] : first["end"]] == first["text"]
    assert result["answer"].startswith(first["text"]) and "[1]" in result["answer"]
    assert [c["n"] for c in result["citations"]] == list(range(1, len(result["citations"]) + 1))
    scores = [c["score"] for c in result["citations"]]
    assert scores == sorted(scores, reverse=True)
    assert result["took_ms"] >= 0
    assert result["quoted"] == [1] and result["message"] is None and result["note"] is None
    assert result["anchor"] == {"document": "al-hasakah-city-offensive", "first": 12, "last": 12}


def test_references_are_carried(engine):
    result = as_json(
        engine.ask(
            "How many YPG fighters were killed at the southern perimeter of Al-Hasakah city?"
        )
    )
    first = result["citations"][0]
    assert "three YPG fighters" in first["text"] and first["references"] == [1, 35]


def test_follow_up_uses_history_with_less_weight(engine):
    followed = as_json(
        engine.ask("Who recaptured it?", history=["What happened at the Kwayres air base?"])
    )
    assert "kwayr" in followed["query"]["from_history"]
    assert "recaptured the base" in followed["citations"][0]["text"]
    # The new question outweighs the old one: a new topic is not dragged back to the old.
    switched = as_json(
        engine.ask("How many civilians fled?", history=["What happened at the Kwayres air base?"])
    )
    assert "civilians fled" in switched["citations"][0]["text"]


def test_documents_filter(engine):
    result = as_json(engine.ask("ISIL attack", documents=["2014-eastern-syria-offensive"], k=10))
    assert {c["document"]["id"] for c in result["citations"]} == {"2014-eastern-syria-offensive"}
    with pytest.raises(KeyError):
        as_json(engine.ask("ISIL attack", documents=["no-such-document"]))


def test_a_question_of_only_stopwords(engine):
    result = as_json(engine.ask("What was it?"))
    assert result["abstained"] and result["citations"] == []
    assert "no searchable words" in result["answer"]


@pytest.mark.parametrize(
    "question", ["", "   ", "?!", "\x00\x01", "😀" * 50, "a" * 5000, "中文问题"]
)
def test_odd_questions_never_crash(engine, question):
    result = as_json(engine.ask(question))
    assert result["abstained"] in (True, False)


def test_k_is_bounded(engine):
    assert len(as_json(engine.ask("ISIL Syrian Army", k=3))["citations"]) == 3
    assert len(as_json(engine.ask("ISIL Syrian Army", k=0))["citations"]) == 1


def test_documents_and_document(engine):
    docs = as_json(engine.documents())
    assert [d["id"] for d in docs] == ["2014-eastern-syria-offensive", "al-hasakah-city-offensive"]
    assert docs[1]["sections"] == ["Background", "The offensive", "Aftermath", "See also"]
    assert sum(d["passages"] for d in docs) == engine.stats()["passages"]
    doc = as_json(engine.document("al-hasakah-city-offensive"))
    assert [p["id"] for p in doc["passages"]][:2] == [
        "al-hasakah-city-offensive:0",
        "al-hasakah-city-offensive:1",
    ]
    assert as_json(engine.document("../etc/passwd")) is None


def test_suggestions_come_from_the_corpus_and_are_answered(engine):
    suggestions = engine.suggestions(4)
    assert len(suggestions) == 4 and len(set(suggestions)) == 4
    titles = [d["title"] for d in as_json(engine.documents())]
    assert all(any(t in s for t in titles) for s in suggestions)
    for question in suggestions:
        assert not as_json(engine.ask(question))["abstained"], question
