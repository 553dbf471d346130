from qa.analyze import Analyzer, fold, stopwords, tokens


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
