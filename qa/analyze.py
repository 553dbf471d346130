"""The analyzer shared by passages and questions: NLTK tokens, folded, stopped and stemmed."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from nltk.stem.snowball import SnowballStemmer
from nltk.tokenize import RegexpTokenizer

# Numbers keep their thousands separators and decimals (`4,000` -> `4000`) so that a figure is
# one term; everything else is a run of word characters, so hyphenated names (`Al-Hasakah`)
# become their parts and match either way they are written.
TOKENIZER = RegexpTokenizer(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\w+")
INNER_APOSTROPHE = re.compile(r"(?<=\w)['’ʼ](?=\w)")


def fold(text: str) -> str:
    """Lower case without accents: `Kobanî` -> `kobani`, `km²` -> `km2`."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def tokens(text: str) -> list[str]:
    """Folded word tokens of the text, before stopwords and stemming."""
    folded = INNER_APOSTROPHE.sub("", fold(text))
    return [t.replace(",", "") for t in TOKENIZER.tokenize(folded)]


@cache
def stopwords() -> frozenset[str]:
    """NLTK's English stopword list, carried in the package so nothing is downloaded."""
    text = (Path(__file__).parent / "data" / "stopwords-english.txt").read_text("utf-8")
    return frozenset(tokens(text))


class Analyzer:
    """Turns text into index terms; stems are memoized because vocabularies are Zipfian."""

    def __init__(self) -> None:
        self._stemmer = SnowballStemmer("english")
        self._stopwords = stopwords()
        self._stems: dict[str, str | None] = {}

    def terms(self, text: str) -> list[str]:
        out = []
        for token in tokens(text):
            term = self._stems.get(token, "")
            if term == "":
                term = self._stem(token)
                self._stems[token] = term
            if term is not None:
                out.append(term)
        return out

    def _stem(self, token: str) -> str | None:
        if token in self._stopwords or token == "_" * len(token):
            return None
        if token[0].isdigit():
            return token
        return self._stemmer.stem(token)
