import pytest

from qa.corpus import read_corpus
from qa.spelling import Lexicon
from tests.conftest import DEFAULT_CORPUS


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.build(p.text for p in read_corpus(DEFAULT_CORPUS).passages())


@pytest.mark.parametrize(
    "question, written, meant",
    [
        ("What happened in Hasakeh?", "Hasakeh", "Al-Hasakah"),
        ("Who attacked Shadadi?", "Shadadi", "Al-Shaddadah"),
        ("Who held Al-Dawoodiyah?", "Dawoodiyah", "Al-Dawoudiyah"),
        ("what did the jihadists take in hasakeh", "hasakeh", "Al-Hasakah"),
    ],
)
def test_misspelled_names_get_the_corpus_spelling(lexicon, question, written, meant):
    [suggestion] = lexicon.suggestions(question)
    assert (suggestion.written, suggestion.meant, suggestion.clear) == (written, meant, True)


@pytest.mark.parametrize(
    "question",
    [
        "What is the boiling point of water?",  # right English words the corpus lacks
        "Who won the Eurovision Song Contest?",
        "Siege of Kobani",  # accent folding already finds Kobanî
        "Which checkpoint was recaptured?",  # words the corpus has
    ],
)
def test_right_words_are_not_corrected(lexicon, question):
    assert lexicon.suggestions(question) == []


def test_lexicon_round_trips_through_json(lexicon):
    again = Lexicon.from_json(lexicon.as_json())
    assert again.suggestions("Hasakeh offensive") == lexicon.suggestions("Hasakeh offensive")
