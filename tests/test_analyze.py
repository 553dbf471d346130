import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.stem.snowball import SnowballStemmer

from qa.index.build import read_corpus
from qa.text.analyze import Analyzer, fold, stopwords, tokens
from qa.tools import synthetic
from tests.helpers import DEFAULT_CORPUS


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


NLTK_STEMMER = SnowballStemmer("english")


def stems_as_nltk_does(found: list[str]) -> bool:
    """Every token's stem is NLTK's (stopwords and figures are no stems, see Analyzer)."""
    stems = Analyzer().stemmer().stemWords(found)
    return stems == [NLTK_STEMMER.stem(token) for token in found]


@pytest.mark.parametrize(
    "text",
    [
        " ".join(p.text for p in read_corpus(DEFAULT_CORPUS).passages()),
        " ".join(synthetic.word(rank) for rank in range(0, 1_000_000, 7)),
        # Words Snowball 3 (PyStemmer 3) stems otherwise than NLTK does.
        "added evening geologists international organic organizations university emergency",
    ],
    ids=["corpus", "synthetic", "snowball-3-changes"],
)
def test_stems_are_nltks(text):
    assert stems_as_nltk_does(sorted(set(tokens(text))))


@settings(max_examples=3000, deadline=None)
@given(st.text("abcdefgilmnorstuvy_'’éçßİı0ǅΣς -", min_size=1, max_size=16).map(tokens))
def test_any_tokens_stems_are_nltks(found):
    assert stems_as_nltk_does(found)


def test_stopwords_and_figures_are_left_unstemmed():
    assert Analyzer().terms("The 1990s were theirs; ___ added 4,000") == ["1990s", "ad", "4000"]


def test_threads_sharing_an_analyzer_get_the_stems_one_thread_gets():
    words = [synthetic.word(rank) + suffix for rank in range(3000) for suffix in ("", "s", "ing")]
    texts = [" ".join(words[i : i + 7]) for i in range(0, len(words), 3)]
    alone = [Analyzer().terms(text) for text in texts]
    # Threads take turns as often as they can, and a small memo is emptied again and again,
    # so that one thread empties it while another is between learning stems and using them.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(3):
            shared = Analyzer(memo=64)
            with ThreadPoolExecutor(8) as pool:
                assert list(pool.map(shared.terms, texts, chunksize=4)) == alone
    finally:
        sys.setswitchinterval(interval)


def test_irregular_forms_are_searched_as_their_lemma():
    a = Analyzer()
    assert a.terms("fled") == a.terms("flee") and a.terms("drove") == a.terms("drive")
    assert a.terms("children") == a.terms("child") and a.terms("blown") == a.terms("blow")
    # Regular forms are the stemmer's, as before; lemmas of their own and names stay as written.
    assert a.terms("added killed saw") == ["ad", "kill", "saw"]
    assert a.terms("Kobanî ISIL Hasakah") == ["kobani", "isil", "hasakah"]
