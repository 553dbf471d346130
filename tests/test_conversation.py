import pytest

from qa.conversation import direction


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
