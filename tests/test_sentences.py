import pytest

from qa.ingest.sentences import MAX_WORDS, split_sentences, strip_citations
from tests.helpers import DEFAULT_CORPUS


def texts(block: str) -> list[str]:
    return [s.text for s in split_sentences(block)]


def test_abbreviations_do_not_end_sentences():
    assert texts("Gen. Hasham led the U.S.-led coalition. It held.") == [
        "Gen. Hasham led the U.S.-led coalition.",
        "It held.",
    ]


@pytest.mark.parametrize("number", ["4,000 km²", "1,400–1,440+", "3.5 million", "No. 5"])
def test_numbers_do_not_break_sentences(number):
    assert len(texts(f"They took {number} of land in the north. Then they stopped.")) == 2


def test_citation_marks_become_references():
    sentences = split_sentences(
        "Three YPG fighters died,[1][35] while 11 soldiers held.[2] Then it ended."
    )
    assert [s.text for s in sentences] == [
        "Three YPG fighters died, while 11 soldiers held.",
        "Then it ended.",
    ]
    assert sentences[0].references == (1, 35, 2)
    assert sentences[1].references == ()


def test_a_mark_between_sentences_does_not_glue_them():
    assert texts("It fell.[17] Late that evening, it rose.") == [
        "It fell.",
        "Late that evening, it rose.",
    ]


def test_a_leading_mark_belongs_to_the_first_sentence():
    sentences = split_sentences("[17] Late in the evening, they attacked. It failed.")
    assert sentences[0].references == (17,)
    assert sentences[0].text == "Late in the evening, they attacked."


def test_offsets_cover_the_sentence_and_its_marks():
    block = "Alpha beta.[3] Gamma delta, epsilon.[4][5]"
    for s in split_sentences(block):
        assert strip_citations(block[s.start : s.end]) == s.text


def test_run_on_block_yields_passages_of_sensible_length():
    text = (DEFAULT_CORPUS / "2014-eastern-syria-offensive.txt").read_text("utf-8")
    run_on = text.split("\n\n")[1]
    sentences = split_sentences(run_on)
    assert len(sentences) >= 2
    assert all(len(s.text.split()) <= MAX_WORDS for s in sentences)
    assert "1,400–1,440+ fighters" in sentences[0].text


def test_a_block_with_no_full_stop_at_all_is_cut():
    words = " ".join(f"word{i}," if i % 7 == 0 else f"word{i}" for i in range(400))
    sentences = split_sentences(words)
    assert len(sentences) > 4
    assert all(len(s.text.split()) <= MAX_WORDS for s in sentences)
    assert " ".join(s.text for s in sentences) == words
