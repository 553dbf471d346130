import string
from collections import Counter, defaultdict
from difflib import SequenceMatcher

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.answer.model import as_json
from qa.index.build import read_corpus
from qa.text.analyze import fold
from qa.text.spelling import NAME_SIMILARITY, WORD, Lexicon, words_in
from tests.helpers import DEFAULT_CORPUS


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


def counted_word_by_word(texts: list[str]) -> tuple[dict[str, str], dict[str, int]]:
    """The lexicon's spellings and counts, made with a Counter per word: what the arrays give."""
    units = Counter(word for text in texts for word in WORD.findall(text))
    counts: Counter[str] = Counter()
    written: dict[str, Counter[str]] = defaultdict(Counter)
    for unit, n in units.items():
        for part in fold(unit).split("-"):
            counts[part] += n
            written[part][unit] += n
    return {word: forms.most_common(1)[0][0] for word, forms in written.items()}, dict(counts)


# Words that fold alike, hyphenate, repeat a part, and tie.
SPELLINGS = ["Al-Hasakah", "al-Hasakah", "AL-HASAKAH", "Hasakah", "Al-Al", "x-y-x", "Kobanî"]
SPELLINGS += ["kobani", "O'Neil", "o’neil", "Straße", "STRASSE", "ﬁne", "Ǆemal", "ß-ss"]
TEXTS = st.lists(st.sampled_from(SPELLINGS) | st.text(max_size=8), max_size=40).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXTS, max_size=3))
def test_lexicon_is_what_counting_word_by_word_gives(texts):
    lexicon = Lexicon.build(texts)
    expected = Lexicon.of(*counted_word_by_word(texts))
    for name, array in expected.arrays.items():  # the same words in the same order too
        assert np.array_equal(lexicon.arrays[name], array), name


@settings(max_examples=500, deadline=None)
@given(st.text("aZq9_'- \n.,", max_size=80) | st.text(string.printable, max_size=200))
def test_ascii_text_has_the_words_the_pattern_finds(text):
    assert words_in(text) == WORD.findall(text)


def test_lexicon_round_trips_through_its_saved_arrays(lexicon, tmp_path):
    lexicon.save(tmp_path)
    again = Lexicon.load(tmp_path)
    assert again.suggestions("Hasakeh offensive") == lexicon.suggestions("Hasakeh offensive")
    assert again.suggestions("Hasakeh offensive") != []
    assert again.spelling("hasakah") == "Al-Hasakah"


def test_a_clear_misspelling_is_searched_for_and_said(engine):
    result = as_json(engine.ask("What happened in Hasakeh on 4 June?"))
    assert result["query"]["spelling"] == [
        {"written": "Hasakeh", "suggested": "Al-Hasakah", "applied": True}
    ]
    assert result["answer"].startswith("Searched for “Al-Hasakah” (you wrote “Hasakeh”).")
    assert "On 4 June" in result["citations"][0]["text"]


def test_a_word_in_another_form_is_not_corrected(engine):
    # The corpus says "launched", never "launch": the stem is there, so nothing is misspelled.
    result = as_json(engine.ask("Where did ISIL launch its offensive?"))
    assert result["query"]["spelling"] == []


def test_a_right_word_the_corpus_lacks_is_not_corrected(engine):
    result = as_json(engine.ask("What is the boiling point of water?"))
    assert result["query"]["spelling"] == [] and result["abstained"]


def test_an_unclear_suggestion_is_offered_not_applied(tmp_path):
    from qa.answer.engine import Engine

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "towns.txt").write_text(
        "= Towns =\n\nThe road ran from Marivan to Marivar and on to the coast.\n", "utf-8"
    )
    result = as_json(Engine.open(corpus, tmp_path / "index").ask("Where is Marivaz?"))
    [suggestion] = result["query"]["spelling"]
    assert suggestion["written"] == "Marivaz" and suggestion["applied"] is False
    assert result["answer"].startswith("Did you mean “")


# Words alike in letters but not in order, with repeats and letters of several bytes.
LETTERS = "aaabeilnorst’éßжш"
SIMILAR = st.text(LETTERS, min_size=1, max_size=9).map(lambda w: "s" + w)


@settings(max_examples=200, deadline=None)
@given(st.lists(SIMILAR, min_size=1, max_size=60), SIMILAR)
def test_the_byte_bound_keeps_every_word_quick_ratio_would(words, word):
    lexicon = Lexicon.build([" ".join(words)])
    a, n = lexicon.arrays, len(word)
    kept = {w for w, _ in lexicon._near(word)}
    band = [
        w
        for w in lexicon.arrays["shape-text"].tobytes().decode().split("\n")[:-1]
        if w[0] == word[0] and abs(len(w) - n) <= 3
    ]
    needed = {w for w in band if SequenceMatcher(None, word, w).quick_ratio() >= NAME_SIMILARITY}
    assert needed <= kept <= set(band)
    assert len(a["shape-bytes"]) == len(a["shapes"])


def test_suggestions_are_those_of_scoring_every_word_of_the_band(lexicon, monkeypatch):
    questions = ["What happened in Hasakeh?", "Who attacked Shadadi?", "Who held Kobanee?"]
    bounded = [lexicon.suggestions(q) for q in questions]
    monkeypatch.setattr(Lexicon, "_may_match", lambda self, word, lo, hi: np.ones(hi - lo, bool))
    assert [lexicon.suggestions(q) for q in questions] == bounded
    assert all(bounded)
