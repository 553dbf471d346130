import pytest

from qa.answer.model import as_json
from qa.answer.spans import answer_span
from qa.text.analyze import Analyzer
from qa.text.question import asked_kind

EVENING = (
    "Late in the evening on 23 July, a 640-men strong Islamic State assault force (of which 40 "
    "were infiltrators) launched an attack on the Division 17 base, north of Raqqa, "
    "from three sides."
)
BACKED = (
    "In May 2015, the Kurdish YPG, backed by the Assyrian Syriac Military Council, allied Arab "
    "tribal fighters, and Free Syrian Army fighters, launched a large-scale offensive in the "
    "western Al-Hasakah Governorate, capturing over 4,000 km² of land and over 230 villages."
)


@pytest.mark.parametrize(
    "question, kind",
    [
        ("When did it start?", "date"),
        ("In what year was it built?", "date"),
        ("How many soldiers died?", "quantity"),
        ("How much land was taken?", "quantity"),
        ("What percentage voted?", "quantity"),
        ("Where was the battle?", "place"),
        ("Who led the attack?", "name"),
        ("Which militia switched sides?", "name"),
        ("What happened on 8 August?", None),
        ("Why did they retreat?", None),
    ],
)
def test_asked_kind(question, kind):
    assert asked_kind(question) == kind


@pytest.mark.parametrize(
    "question, sentence, expected",
    [
        ("When was the attack on the Division 17 base?", EVENING, "23 July"),
        ("When did the YPG launch its offensive?", BACKED, "May 2015"),
        ("From how many sides was the Division 17 base attacked?", EVENING, "three sides"),
        ("How many infiltrators were in the assault force?", EVENING, "40"),
        ("How much land did the YPG capture?", BACKED, "4,000 km²"),
        (
            "How many civilians fled?",
            "Casualties: 25 civilians killed, 4,000+ civilians fled",
            "4,000+ civilians",
        ),
        ("Who backed the YPG?", BACKED, "Assyrian Syriac Military Council"),
        ("Where was the Division 17 base?", EVENING, "Raqqa"),
    ],
)
def test_spans_of_each_kind(question, sentence, expected):
    span = answer_span(question, sentence, Analyzer())
    assert span is not None and span.text == expected
    assert sentence[span.start : span.end] == span.text


@pytest.mark.parametrize(
    "question, sentence",
    [
        ("When did the fighting stop?", "The fighting stopped after heavy losses."),
        ("How many tanks were lost?", "Many tanks were lost in the battle."),
        ("Who led the YPG?", "The YPG was led by its commander."),
        ("What did the YPG do?", BACKED),  # no kind asked: no span
    ],
)
def test_no_span_when_none_of_the_right_kind(question, sentence):
    assert answer_span(question, sentence, Analyzer()) is None


def test_a_span_never_only_repeats_the_question():
    span = answer_span(
        "Who attacked the Syrian Army?", "The Syrian Army was attacked by ISIL.", Analyzer()
    )
    assert span is not None and span.text == "ISIL"


def test_the_answer_object_carries_the_span(engine):
    result = as_json(engine.ask("Which checkpoint was recaptured on 6 June?"))
    span = result["answer_span"]
    assert span["text"] == "Panorama checkpoint" and span["citation"] == 1
    first = result["citations"][0]
    assert first["text"][span["start"] : span["end"]] == span["text"]
    assert first["answer_span"] == {k: v for k, v in span.items() if k != "citation"}


def test_no_span_when_the_question_asks_for_none(engine):
    result = as_json(engine.ask("What happened at the Kwayres air base?"))
    assert result["answer_span"] is None
    assert all(c["answer_span"] is None for c in result["citations"])
