"""The analyzer shared by passages and questions: NLTK tokens, folded, stopped and stemmed."""

from __future__ import annotations

import re
import string
import threading
import unicodedata
from collections.abc import Sequence
from functools import cache
from itertools import compress, repeat
from operator import is_

import regex
import Stemmer

from qa.common.memo import Memo
from qa.settings import PACKAGE_DATA

# Numbers keep their thousands separators and decimals (`4,000` -> `4000`) so that a figure is
# one term; everything else is a run of word characters, so hyphenated names (`Al-Hasakah`)
# become their parts and match either way they are written. The `regex` engine is the one NLTK's
# RegexpTokenizer runs, without the per-call timeout that would cost more than the match.
TOKENIZER = regex.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\w+")
APOSTROPHES = "'’ʼ"
# Words whose terms an analyzer without a memo bound remembers.
WORDS = 4096
INNER_APOSTROPHE = re.compile(rf"(?<=\w)[{APOSTROPHES}](?=\w)")
# A token keeps a comma only in a number, with digits (as TOKENIZER's engine sees them) around it.
DIGIT_COMMA = regex.compile(r"\d,\d")
# ASCII text without a figure like `4,000` or `3.5` has runs of word characters for tokens, which
# bytes.translate (letters lowered, every other byte a space) and str.split find several times
# faster.
FIGURE = regex.compile(r"\d[,.]\d")
_WORD_BYTES = (string.ascii_lowercase + string.digits + "_").encode()
# ASCII's letters in lower case, its other word characters as they are, all else a space.
_LOWER = bytes.maketrans(string.ascii_uppercase.encode(), string.ascii_lowercase.encode())
ONLY_WORDS = bytes(byte if byte in _WORD_BYTES else ord(" ") for byte in _LOWER)
# What joins texts that are tokenized together: no word character, and folding leaves it as it is,
# so no token holds it; kept as a token of its own, it shows where each text's tokens end.
BREAK = "\x00"
_SPACED_BREAK = f" {BREAK} "
ONLY_WORDS_AND_BREAKS = BREAK.encode() + ONLY_WORDS[1:]
TOKENIZER_AND_BREAKS = regex.compile(f"{TOKENIZER.pattern}|{BREAK}")
# What a token that is no term (a stopword) stems to: no stem is empty, so it can be left out
# by filter(None, ...) at C speed.
NO_TERM = ""


def fold(text: str) -> str:
    """Lower case without accents: `Kobanî` -> `kobani`, `km²` -> `km2`."""
    if text.isascii():  # nothing to decompose, and ASCII's case folding is lower()
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def tokens(text: str) -> list[str]:
    """Folded word tokens of the text, before stopwords and stemming."""
    return _tokens(text, ONLY_WORDS, TOKENIZER)


def _tokens(text: str, only_words: bytes, tokenizer: regex.Pattern) -> list[str]:
    """`tokens`, with the translation table and pattern that find them (see tokens_of_texts)."""
    # ASCII text is folded by the translation below (lower() would be one more pass).
    folded = text if text.isascii() else fold(text)
    if any(map(folded.__contains__, APOSTROPHES)):
        folded = INNER_APOSTROPHE.sub("", folded)
    if folded.isascii() and not FIGURE.search(folded):
        return folded.encode().translate(only_words).decode().split()
    if text.isascii():
        # Only ASCII is still unfolded here; lower() after fold() would undo a case folding
        # that is not to lower case (Cherokee's small letters fold to capitals).
        folded = folded.lower()
    found = tokenizer.findall(folded)
    # Only numbers hold commas, so removing them from every token changes only those.
    return [t.replace(",", "") for t in found] if DIGIT_COMMA.search(folded) else found


def tokens_of_texts(texts: Sequence[str]) -> list[list[str]]:
    """The `tokens` of each text, found in one pass over them all: many short texts cost far
    less so than one by one."""
    joined = _SPACED_BREAK.join(texts)
    if joined.count(BREAK) != len(texts) - 1:  # a text holds BREAK: each is read on its own
        return list(map(tokens, texts))
    return _split_at(_joined_tokens(joined), BREAK, len(texts))


def _joined_tokens(joined: str) -> list[str]:
    """`tokens` of texts joined by spaced BREAKs, the BREAKs kept as tokens.

    Each step is the one `tokens` takes, and gives each text what it gives the text alone:
    folding and the apostrophes' removal go character by character (NFKD reorders only runs of
    combining marks, which a space ends; the apostrophes look only at word characters around),
    and where `tokens` takes its fast path for ASCII without figures, TOKENIZER finds the same
    runs of word characters, so a text is tokenized alike on either path.
    """
    return _tokens(joined, ONLY_WORDS_AND_BREAKS, TOKENIZER_AND_BREAKS)


def _split_at(items: list[str], marker: str, parts: int) -> list[list[str]]:
    """The items between the parts - 1 markers among them, part by part."""
    out, start = [], 0
    for _ in range(parts - 1):
        end = items.index(marker, start)  # a search at C speed
        out.append(items[start:end])
        start = end + 1
    out.append(items[start:])
    return out


@cache
def stopwords() -> frozenset[str]:
    """NLTK's English stopword list, carried in the package so nothing is downloaded."""
    text = (PACKAGE_DATA / "stopwords-english.txt").read_text("utf-8")
    return frozenset(tokens(text))


class Analyzer:
    """Turns text into index terms; stems are memoized because vocabularies are Zipfian.

    `memo` bounds how many tokens' stems are remembered: none for indexing, whose vocabulary is
    the corpus's own, but questions bring new words without end, so a service's analyzer
    forgets them all whenever the bound is reached, and its memory stays bounded.
    """

    def __init__(self, memo: int | None = None) -> None:
        # A PyStemmer stemmer keeps state between calls, so each thread has its own.
        self._local = threading.local()
        self._stopwords = stopwords()
        self._stems: dict[str, str] = {}
        self._memo = memo
        # Single words (those of cited sentences, above all) come back again and again.
        self._words = Memo(lambda word: tuple(self.terms(word)), memo or WORDS)

    def terms(self, text: str) -> list[str]:
        found = tokens(text)
        # Looked up at C speed: a Python loop over the tokens would cost more than the lookups.
        stems = list(map(self._stems.get, found))
        if None in stems:
            learned = self._learn(list(compress(found, map(is_, stems, repeat(None)))))
            # From what was looked up and learned here: another thread may empty the memo.
            stems = list(map(learned.get, found, stems))
        return list(filter(None, stems))

    def word_terms(self, word: str) -> tuple[str, ...]:
        """The terms of one word, remembered: cheaper than `terms` for words seen before."""
        return self._words[word]

    def _learn(self, unknown: list[str]) -> dict[str, str]:
        """The stems of tokens not seen yet, remembered (after forgetting all, when full)."""
        new = list(dict.fromkeys(unknown))
        learned = dict(zip(new, self.token_terms(new), strict=True))
        if self._memo is not None and len(self._stems) + len(learned) > self._memo:
            self._stems.clear()
        self._stems.update(learned)
        return learned

    def token_terms(self, found: list[str]) -> list[str]:
        """The term of each token (see `tokens`), NO_TERM for a stopword; nothing is remembered."""
        return list(map(self._term, found, self.stemmer().stemWords(found)))

    def stemmer(self) -> Stemmer.Stemmer:
        """NLTK's English Snowball stemmer at C speed: PyStemmer 2.x builds the same algorithm
        from Snowball's source (the tests compare the two), five times faster."""
        stemmer = getattr(self._local, "stemmer", None)
        if stemmer is None:
            # No cache: the analyzer remembers stems, PyStemmer's would only hold them twice.
            stemmer = self._local.stemmer = Stemmer.Stemmer("english", maxCacheSize=0)
        return stemmer

    def _term(self, token: str, stem: str) -> str:
        if token in self._stopwords or token == "_" * len(token):
            return NO_TERM
        return token if token[0].isdigit() else stem
