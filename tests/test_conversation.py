import pytest

from qa.answer.conversation import direction
from qa.answer.model import as_json


@pytest.mark.parametrize(
    "question", ["Tell me more", "tell me more.", "What happened next?", "Go on", "and then?"]
)
def test_going_on(question):
    assert direction(question) == 1


@pytest.mark.parametrize("question", ["And before that?", "What happened before that?", "earlier?"])
def test_going_back(question):
    assert direction(question) == -1


@pytest.mark.parametrize(
    "question",
    [
        "And what happened on 1 August?",
        "Who led it?",
        "Tell me more about the YPG",
        "What happened?",
    ],
)
def test_questions_of_their_own(question):
    assert direction(question) == 0


KWAYRES = "What happened at the Kwayres air base?"


def test_tell_me_more_continues_from_the_cited_passage(engine):
    first = as_json(engine.ask(KWAYRES))
    anchor = first["citations"][0]["passage_id"]
    more = as_json(engine.ask("Tell me more", [KWAYRES]))
    doc, ordinal = anchor.rsplit(":", 1)
    assert more["query"]["continues"] == {"passage_id": anchor, "document": doc, "direction": 1}
    assert [c["passage_id"] for c in more["citations"]] == [
        f"{doc}:{int(ordinal) + 1}",
        f"{doc}:{int(ordinal) + 2}",
    ]
    assert more["answer"].startswith(more["citations"][0]["text"])
    assert not more["abstained"]


def test_continuing_twice_goes_further(engine):
    second = as_json(engine.ask("Tell me more", [KWAYRES]))
    third = as_json(engine.ask("What happened next?", [KWAYRES, "Tell me more"]))
    last = max(int(c["passage_id"].rsplit(":", 1)[1]) for c in second["citations"])
    assert third["citations"][0]["passage_id"].endswith(f":{last + 1}")


def test_before_that_goes_back(engine):
    first = as_json(engine.ask(KWAYRES))["citations"][0]["passage_id"]
    ordinal = int(first.rsplit(":", 1)[1])
    back = as_json(engine.ask("And before that?", [KWAYRES]))
    assert [int(c["passage_id"].rsplit(":", 1)[1]) for c in back["citations"]] == [
        ordinal - 2,
        ordinal - 1,
    ]


def test_nothing_after_the_last_passage(engine):
    last_question = "What happened to the militants on the Political Bridge?"
    cited = as_json(engine.ask(last_question))["citations"][0]["passage_id"]
    assert cited == "2014-eastern-syria-offensive:12"  # the document's last passage
    result = as_json(engine.ask("Tell me more", [last_question]))
    assert result["citations"] == [] and "nothing after" in result["answer"]
    again = as_json(engine.ask("Tell me more", [last_question, "Tell me more"]))
    assert again["citations"] == [] and "nothing after" in again["answer"]


def test_tell_me_more_with_nothing_before(engine):
    result = as_json(engine.ask("Tell me more"))
    assert result["abstained"] and "ask a question first" in result["answer"]


def test_going_on_from_the_answer_anchor_is_going_on_from_the_history(engine):
    first = engine.ask(KWAYRES)
    from_anchor = as_json(engine.ask("Tell me more", anchor=first.anchor))
    from_history = as_json(engine.ask("Tell me more", [KWAYRES]))
    from_anchor.pop("took_ms"), from_history.pop("took_ms")
    assert from_anchor == from_history
    further = engine.ask(
        "Tell me more", anchor=engine.ask("Tell me more", anchor=first.anchor).anchor
    )
    assert further.citations[0].passage_id.endswith(f":{first.anchor.last + 3}")
