import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.stem.snowball import EnglishStemmer, SnowballStemmer

from qa import synthetic
from qa.analyze import NO_TERM, STEMMED_ENDINGS, Analyzer, fold, stopwords, tokens
from qa.corpus import read_corpus
from tests.conftest import DEFAULT_CORPUS


def test_accents_and_case_fold():
    a = Analyzer()
    assert a.terms("Kobanî") == a.terms("kobani") == ["kobani"]
    assert fold("Ḥasakah") == "hasakah"


def test_hyphenated_names_match_their_parts():
    a = Analyzer()
    assert a.terms("Al-Hasakah") == ["al", "hasakah"]
    assert set(a.terms("Hasakah")) <= set(a.terms("Al-Hasakah"))


def test_stopwords_go_and_stems_stay():
    a = Analyzer()
    assert a.terms("What were the attacks of the militias?") == ["attack", "militia"]
    assert a.terms("recaptured recaptures") == ["recaptur", "recaptur"]


def test_numbers_are_single_terms():
    assert Analyzer().terms("4,000 km² and 1,400–1,440+ fighters, 3.5") == [
        "4000",
        "km2",
        "1400",
        "1440",
        "fighter",
        "3.5",
    ]


def test_inner_apostrophes_join_the_word():
    assert tokens("al-Sha'arani’s") == ["al", "shaaranis"]


def test_stopword_list_is_carried_by_the_project():
    words = stopwords()
    assert {"the", "of", "which", "was"} <= words
    assert len(words) > 150


def test_odd_input_does_not_crash():
    a = Analyzer()
    assert a.terms("") == []
    assert a.terms("___ \x00 \ud800 😀 中文") == ["中文"]


STEMMER = SnowballStemmer("english")


def test_the_stemmers_special_words_have_endings_it_changes():
    assert all(w.endswith(STEMMED_ENDINGS) for w in EnglishStemmer._EnglishStemmer__special_words)


def stems_as_the_stemmer_does(analyzer: Analyzer, token: str) -> bool:
    stem = analyzer._stem(token)
    return stem == NO_TERM or token[0].isdigit() or stem == STEMMER.stem(token)


@pytest.mark.parametrize(
    "words",
    [
        [t for p in read_corpus(DEFAULT_CORPUS).passages() for t in tokens(p.text)],
        [synthetic.word(rank) for rank in range(0, 1_000_000, 7)],
    ],
    ids=["corpus", "synthetic"],
)
def test_a_word_that_skips_the_stemmer_has_the_stemmers_stem(words):
    analyzer = Analyzer()
    assert all(stems_as_the_stemmer_does(analyzer, w) for w in words)


@settings(max_examples=2000, deadline=None)
@given(st.text("abcdefgilmnorstuvy_éçß0ǅ", min_size=1, max_size=12).map(tokens))
def test_any_token_that_skips_the_stemmer_has_the_stemmers_stem(found):
    analyzer = Analyzer()
    assert all(stems_as_the_stemmer_does(analyzer, t) for t in found)
