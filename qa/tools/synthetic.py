"""Generated English-like corpora for benchmarks: Zipfian words, wiki-style documents, questions.

Word ranks follow a Zipf-Mandelbrot law, p(r) ~ 1 / (r + 2.7)^1.15; the most frequent ranks are
real English function words, the rest pronounceable made-up words that grow longer with rank, as
real words do. Each document favours a few topic words, so terms cluster the way they do in
articles. The same seed always gives the same corpus.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

# The most frequent English words, most frequent first (the head of any English frequency list).
COMMONEST = """
the of and in to a was is for on as by with that he from his it at which an were are be
this had or its their also not has who but have they first one after been two all more
other during her would new can there most some into when time only about such these
than many between while over where then through both them under since later may each
three against before until early part made used known several including however
"""
FUNCTION_WORDS = COMMONEST.split()
ONSETS = "b br c ch d dr f g gr h j k l m n p pr r s st sh t tr v w z".split()  # noqa: SIM905
VOWELS = "a e i o u ai ea ou ie".split()  # noqa: SIM905
CODAS = ["", "", "n", "r", "l", "s", "m", "nd", "st", "rk"]
SUFFIXES = ["", "", "", "", "s", "ed", "ing", "ly", "ion", "al"]
SECTIONS = ["History", "Background", "Geography", "Economy", "Aftermath", "Legacy", "Culture"]
QUESTION_FORMS = ["What is", "Who was", "Where did", "When did", "Why were", "How did"]

VOCABULARY = 1_000_000
# English's head is steeper than 1 / r: about half of all tokens are its hundred commonest words.
ZIPF_EXPONENT = 1.15
SENTENCES_PER_DOCUMENT = 120
TOPIC_WORDS = 25
TOPIC_SHARE = 0.12
NUMBER_SHARE = 0.03
COMMA_SHARE = 0.06
CITATION_SHARE = 0.15


@dataclass(frozen=True)
class SyntheticCorpus:
    folder: Path
    sentences: int
    documents: int
    questions: list[str]


def made_up_word(rank: int) -> str:
    """A pronounceable word, longer for rarer ranks; distinct ranks give distinct words."""
    syllables = []
    n = rank
    while True:
        n, onset = divmod(n, len(ONSETS))
        n, vowel = divmod(n, len(VOWELS))
        syllables.append(ONSETS[onset] + VOWELS[vowel])
        if n == 0:
            break
        n -= 1
    return "".join(syllables) + CODAS[rank % len(CODAS)]


@cache
def word(rank: int) -> str:
    """The word of a rank: function words first, then made-up words, some with English endings."""
    if rank < len(FUNCTION_WORDS):
        return FUNCTION_WORDS[rank]
    rank -= len(FUNCTION_WORDS)
    return made_up_word(rank) + SUFFIXES[(rank // 7) % len(SUFFIXES)]


class Words:
    """Draws words by the Zipf-Mandelbrot law over VOCABULARY ranks."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        weights = 1.0 / (np.arange(VOCABULARY) + 2.7) ** ZIPF_EXPONENT
        self.cdf = np.cumsum(weights) / weights.sum()
        self.content_from = self.cdf[len(FUNCTION_WORDS) - 1]

    def ranks(self, count: int, content_only: bool = False) -> np.ndarray:
        low = self.content_from if content_only else 0.0
        drawn = low + self.rng.random(count) * (1 - low)
        return np.minimum(np.searchsorted(self.cdf, drawn), VOCABULARY - 1)

    def of(self, ranks: np.ndarray) -> np.ndarray:
        """The words of the ranks, as an object array (made only for the ranks drawn)."""
        distinct, where = np.unique(ranks, return_inverse=True)
        return np.array([word(r) for r in distinct.tolist()], dtype=object)[where]

    def content(self, count: int) -> list[str]:
        return [str(w) for w in self.of(self.ranks(count, content_only=True))]


def generate(folder: Path, sentences: int, seed: int = 1, questions: int = 300) -> SyntheticCorpus:
    """Writes about `SENTENCES_PER_DOCUMENT`-sentence documents totalling `sentences` sentences."""
    rng = np.random.default_rng(seed)
    words = Words(rng)
    folder.mkdir(parents=True, exist_ok=True)
    sizes = _document_sizes(rng, sentences)
    asked: list[str] = []
    for number, size in enumerate(sizes):
        lines = _sentences(words, size)
        (folder / f"doc-{number:06d}.txt").write_text(_document(words, number, lines), "utf-8")
        asked += _questions(rng, lines, questions * size // sentences + 1)
    picked = rng.choice(len(asked), size=min(questions, len(asked)), replace=False)
    return SyntheticCorpus(folder, sentences, len(sizes), [asked[i] for i in sorted(picked)])


def _document_sizes(rng: np.random.Generator, sentences: int) -> list[int]:
    sizes = []
    left = sentences
    while left > 0:
        size = int(np.clip(rng.lognormal(np.log(SENTENCES_PER_DOCUMENT), 0.6), 5, 1000))
        sizes.append(min(size, left))
        left -= sizes[-1]
    return sizes


def _sentences(words: Words, count: int) -> list[list[str]]:
    """`count` sentences as word lists, mostly 10 to 40 words long."""
    rng = words.rng
    lengths = np.clip(rng.gamma(5.0, 4.6, size=count).astype(int), 4, 70)
    ranks = words.ranks(int(lengths.sum()))
    topic = words.ranks(TOPIC_WORDS, content_only=True)
    swap = (ranks >= len(FUNCTION_WORDS)) & (rng.random(len(ranks)) < TOPIC_SHARE)
    ranks[swap] = rng.choice(topic, size=int(swap.sum()))
    tokens = words.of(ranks)
    numbers = rng.random(len(tokens)) < NUMBER_SHARE
    tokens[numbers] = [str(n) for n in rng.integers(1, 2025, size=int(numbers.sum()))]
    commas = rng.random(len(tokens)) < COMMA_SHARE
    tokens[commas] = tokens[commas] + ","
    flat = tokens.tolist()
    bounds = np.concatenate([[0], np.cumsum(lengths)]).tolist()
    return [flat[a:b] for a, b in itertools.pairwise(bounds)]


def _document(words: Words, number: int, sentences: list[list[str]]) -> str:
    rng = words.rng
    title = " ".join(w.capitalize() for w in words.content(3))
    parts = [f"= {title} {number} =", ""]
    if rng.random() < 0.3:
        parts += ["Infobox", *_infobox(words), ""]
    paragraphs = _paragraphs(rng, [_sentence_text(rng, s) for s in sentences])
    for i, paragraph in enumerate(paragraphs):
        if i and rng.random() < 0.25:
            parts += [f"== {SECTIONS[int(rng.integers(len(SECTIONS)))]} ==", ""]
        parts += [paragraph, ""]
    return "\n".join(parts)


def _infobox(words: Words) -> list[str]:
    fields = ["Date", "Place", "Result", "Casualties"]
    return [
        f"- {field}: " + " ".join(words.content(int(words.rng.integers(2, 6)))) for field in fields
    ]


def _sentence_text(rng: np.random.Generator, words: list[str]) -> str:
    text = " ".join(words).rstrip(",")
    text = text[0].upper() + text[1:] + "."
    if rng.random() < CITATION_SHARE:
        text += f"[{int(rng.integers(1, 120))}]"
    return text


def _paragraphs(rng: np.random.Generator, sentences: list[str]) -> list[str]:
    paragraphs = []
    i = 0
    while i < len(sentences):
        n = int(rng.integers(2, 8))
        paragraphs.append(" ".join(sentences[i : i + n]))
        i += n
    return paragraphs


def _questions(rng: np.random.Generator, sentences: list[list[str]], count: int) -> list[str]:
    """Questions made of a few content words of random sentences of the document."""
    function = set(FUNCTION_WORDS)
    out = []
    for i in rng.integers(len(sentences), size=count):
        content = [w for w in (w.rstrip(",") for w in sentences[i]) if w not in function]
        if len(content) >= 2:
            picked = rng.choice(
                content, size=min(len(content), int(rng.integers(2, 6))), replace=False
            )
            form = QUESTION_FORMS[int(rng.integers(len(QUESTION_FORMS)))]
            out.append(f"{form} {' '.join(picked)}?")
    return out
