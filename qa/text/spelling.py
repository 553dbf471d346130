"""Spelling suggestions from the corpus's own words: `Hasakeh` -> `Al-Hasakah`."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np

from qa.common import arrays
from qa.common.codes import by_first_use
from qa.common.vocabulary import Vocabulary
from qa.text.analyze import fold, stopwords

# A written word with its hyphenated parts (`Al-Hasakah`), as the corpus spells it.
WORD = re.compile(r"[^\W\d_][\w'’]*(?:-[^\W\d_][\w'’]*)*")
# WORD in ASCII text, whose letters and word characters are ASCII's: the same words, found faster.
ASCII_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_']*(?:-[A-Za-z][A-Za-z0-9_']*)*")
MIN_LENGTH = 5
MAX_LENGTH_CHANGE = 3
# How alike a word and a corpus word must be: names (capitalised in the question) get more
# latitude than common words, which are far more often right words the corpus lacks.
NAME_SIMILARITY = 0.74
WORD_SIMILARITY = 0.85
# The best match is clear when no other corpus word comes this close to it.
CLEAR_MARGIN = 0.06
PREFIX = "lexicon-"
ARRAYS = (
    "hashes",
    "offsets",
    "terms",
    "spelling-text",
    "spelling-offsets",
    "shapes",
    "shape-counts",
    "shape-text",
    "shape-offsets",
    "shape-bytes",
)
# Each word's bytes counted by their value modulo BUCKETS (ASCII letters each their own), up to
# 255 (see _may_match). Kept in `shape-bytes`, row by row in `shape-text` order.
BUCKETS = 32
# Ends each word in the arrays of strings; folded words never hold a line break.
SEPARATOR = "\n"


@dataclass(frozen=True)
class Suggestion:
    """A question word the corpus lacks, the corpus's spelling it most likely meant."""

    written: str
    meant: str
    term_form: str
    clear: bool

    def as_dict(self) -> dict:
        return {"written": self.written, "suggested": self.meant, "applied": self.clear}


class Lexicon:
    """Every word of the corpus, folded, with its count and how the corpus most often writes it.

    It is held in arrays, saved with the index and memory-mapped like it: a large corpus has a
    million words, which as Python strings in dicts would cost every worker its own 160 MB.
    Words are looked up in a Vocabulary; for misspellings, candidates are the words of the same
    initial and about the same length, kept one after the other in `shape-text`.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.arrays = dict(arrays)
        a = self.arrays
        self._words = Vocabulary(a["hashes"], a["offsets"], a["terms"])

    @classmethod
    def build(cls, texts: Iterable[str]) -> Lexicon:
        return cls.of_words(written_words(texts))

    @classmethod
    def of_words(cls, written: Mapping[str, int]) -> Lexicon:
        """The lexicon of written words (see written_words) and how often each is written.

        A written word's parts, folded (`al` and `hasakah` of `Al-Hasakah`), count as often as it
        is written; a part's spelling is the written word that writes it most, the first on a tie.
        Words are in order of first use. Computed with arrays: a corpus writes a million words.
        """
        if not written:
            return cls.of({}, {})
        units = list(written)
        uses = np.fromiter(written.values(), np.int64, len(units))
        # Each distinct written word is folded once, however often the corpus uses it, and all
        # at once: folding goes character by character, and no word holds a line break.
        folded = fold("\n".join(units))
        words, part = by_first_use(folded.replace("-", "\n").split("\n"))
        # A part's unit is told by the line breaks among the separators (hyphens too) before it.
        separators = np.frombuffer(folded.encode("utf-32-le"), np.uint32)
        separators = separators[(separators == ord("\n")) | (separators == ord("-"))]
        unit = np.concatenate([[0], np.cumsum(separators == ord("\n"))])
        # A unit may write a part twice (`Al-Al`): one pair of each, sorted by part, then unit.
        pairs, inverse = np.unique(part * len(units) + unit, return_inverse=True)
        pair_part, pair_unit = np.divmod(pairs, len(units))
        times = np.bincount(inverse.ravel()) * uses[pair_unit]
        counts = np.zeros(len(words), np.int64)
        np.add.at(counts, pair_part, times)
        # Each part's pairs, the most written first, then the earliest unit: the first is its own.
        order = np.lexsort((pair_unit, -times, pair_part))
        best = order[np.searchsorted(pair_part[order], np.arange(len(words)))]
        return cls._of(words, [units[u] for u in pair_unit[best].tolist()], counts)

    @classmethod
    def of(cls, spellings: Mapping[str, str], counts: Mapping[str, int]) -> Lexicon:
        """The lexicon of folded words with their counts and the spelling of each."""
        words = list(counts)
        uses = np.fromiter(counts.values(), np.int64, len(words))
        return cls._of(words, [spellings[w] for w in words], uses)

    @classmethod
    def _of(cls, words: list[str], spellings: list[str], counts: np.ndarray) -> Lexicon:
        """The lexicon of distinct folded words, each with its spelling and count."""
        vocabulary, column = Vocabulary.build(words)
        by_column = np.empty(len(words), np.int64)
        by_column[column] = np.arange(len(words))
        # Each word's _shape, for all at once.
        initials = np.fromiter((ord(w[0]) for w in words), np.int64, len(words))
        shapes = initials << 32 | np.fromiter(map(len, words), np.int64, len(words))
        order = np.argsort(shapes, kind="stable")
        by_shape = _strings("shape", [words[i] for i in order.tolist()])
        return cls(
            {
                "hashes": vocabulary.hashes,
                "offsets": vocabulary.offsets,
                "terms": vocabulary.terms,
                **_strings("spelling", [spellings[i] for i in by_column.tolist()]),
                "shapes": shapes[order],
                "shape-counts": counts[order],
                **by_shape,
                "shape-bytes": _byte_counts(by_shape["shape-text"], by_shape["shape-offsets"]),
            }
        )

    def save(self, folder: Path) -> list[str]:
        """Writes the arrays as .npy files and returns their names."""
        return arrays.save(folder, {PREFIX + name: self.arrays[name] for name in ARRAYS})

    @classmethod
    def load(cls, folder: Path) -> Lexicon:
        """The saved lexicon, memory-mapped; ValueError or OSError when it is damaged."""
        loaded = arrays.load(folder, [PREFIX + name for name in ARRAYS])
        lexicon = cls({name: loaded[PREFIX + name] for name in ARRAYS})
        a, n = lexicon.arrays, len(lexicon._words)
        if not (
            len(a["spelling-offsets"]) == len(a["shape-offsets"]) == n + 1
            and len(a["shapes"]) == len(a["shape-counts"]) == len(a["shape-bytes"]) == n
            and a["shape-bytes"].shape[1:] == (BUCKETS,)
            and a["spelling-offsets"][-1] == len(a["spelling-text"])
            and a["shape-offsets"][-1] == len(a["shape-text"])
        ):
            raise ValueError("lexicon arrays disagree")
        return lexicon

    def __contains__(self, word: str) -> bool:
        return word in self._words

    def count(self, word: str) -> int:
        """How often the corpus uses a word (0 for one it lacks)."""
        return dict(self._near(word)).get(word, 0) if word in self else 0

    def spelling(self, word: str) -> str:
        """How the corpus most often writes a word of the lexicon."""
        return _string(self.arrays, "spelling", self._words[word])

    def suggestions(
        self, question: str, known: Callable[[str], bool] = lambda word: False
    ) -> list[Suggestion]:
        """Suggestions for the question's words that the corpus does not have.

        `known` tells of a word that the corpus has in another form (`launch` of `launched`).
        """
        out = []
        for position, match in enumerate(WORD.finditer(question)):
            for part in match.group().split("-"):
                if known(part):
                    continue
                suggestion = self._suggest(part, is_name=part[:1].isupper() and position > 0)
                if suggestion:
                    out.append(suggestion)
        return out

    def _suggest(self, written: str, is_name: bool) -> Suggestion | None:
        word = fold(written).replace("’", "'")
        if len(word) < MIN_LENGTH or word in self or word in stopwords():
            return None
        floor = NAME_SIMILARITY if is_name else WORD_SIMILARITY
        scored = sorted(
            ((self._similarity(word, other), count, other) for other, count in self._near(word)),
            reverse=True,
        )
        if not scored or scored[0][0] < floor:
            return None
        best_score, _, best = scored[0]
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        clear = best_score - runner_up >= CLEAR_MARGIN
        return Suggestion(written, self.spelling(best), best, clear)

    def _near(self, word: str) -> Iterator[tuple[str, int]]:
        """Corpus words, with their counts, that could be a misspelling's target: same initial,
        similar length, and enough letters in common (see _may_match)."""
        a, n = self.arrays, len(word)
        lo = int(np.searchsorted(a["shapes"], _shape(word[0], n - MAX_LENGTH_CHANGE), "left"))
        hi = int(np.searchsorted(a["shapes"], _shape(word[0], n + MAX_LENGTH_CHANGE), "right"))
        start, end = a["shape-offsets"][[lo, hi]].tolist()
        words = a["shape-text"][start:end].tobytes().decode("utf-8").split(SEPARATOR)[:-1]
        counts = a["shape-counts"][lo:hi].tolist()
        return ((words[i], counts[i]) for i in np.flatnonzero(self._may_match(word, lo, hi)))

    def _may_match(self, word: str, lo: int, hi: int) -> np.ndarray:
        """Whether each word of rows [lo, hi) may be similar enough to `word` to be scored.

        _similarity scores only words whose quick_ratio (2 * letters in common, counted with
        repeats, / both lengths) reaches NAME_SIMILARITY. Bytes in common by bucket are at least
        the letters in common (a letter's bytes fall in the same buckets), so this upper bound,
        computed for a whole band at once, drops only words _similarity would score 0: the
        suggestions are the same, in a few milliseconds instead of a Python loop over tens of
        thousands of words in a large corpus.
        """
        encoded = word.encode()
        if len(encoded) > 255:  # a bucket's count may pass the 255 kept: no bound then
            return np.ones(hi - lo, bool)
        wanted = np.bincount(np.frombuffer(encoded, np.uint8) % BUCKETS, minlength=BUCKETS)
        shared = np.minimum(self.arrays["shape-bytes"][lo:hi], wanted).sum(axis=1)
        lengths = self.arrays["shapes"][lo:hi] & 0xFFFFFFFF
        return 2.0 * shared / (len(word) + lengths) >= NAME_SIMILARITY

    @staticmethod
    def _similarity(a: str, b: str) -> float:
        matcher = SequenceMatcher(None, a, b, autojunk=False)
        return matcher.ratio() if matcher.quick_ratio() >= NAME_SIMILARITY else 0.0


class Lexicons(Lexicon):
    """The lexicons of an index's segments as one: a word is in any, its count is theirs summed,
    and it is spelled as the segment that uses it most writes it (the first of those on a tie),
    however the corpus's files were split into segments or shards."""

    def __init__(self, parts: Sequence[Lexicon]) -> None:
        self.parts = list(parts)

    @classmethod
    def of(cls, parts: Sequence[Lexicon]) -> Lexicon:
        return parts[0] if len(parts) == 1 else cls(parts)

    def save(self, folder: Path) -> list[str]:
        raise TypeError("the lexicons of segments are saved with their segments")

    def __contains__(self, word: str) -> bool:
        return any(word in part for part in self.parts)

    def spelling(self, word: str) -> str:
        holding = [part for part in self.parts if word in part]
        if not holding:
            raise KeyError(word)
        return max(holding, key=lambda part: part.count(word)).spelling(word)

    def _near(self, word: str) -> Iterator[tuple[str, int]]:
        counts: Counter[str] = Counter()
        for part in self.parts:
            for other, count in part._near(word):
                counts[other] += count
        return iter(counts.items())


def _shape(initial: str, length: int) -> int:
    """A key that orders words by initial, then length."""
    return ord(initial) << 32 | max(0, length)


def _strings(name: str, strings: list[str]) -> dict[str, np.ndarray]:
    """`<name>-text`, the strings' UTF-8 bytes each ended by SEPARATOR, and `<name>-offsets`.

    No word holds SEPARATOR, so each string ends where one is found.
    """
    text = np.frombuffer(
        (SEPARATOR.join(strings) + SEPARATOR if strings else "").encode(), np.uint8
    )
    ends = np.flatnonzero(text == ord(SEPARATOR)) + len(SEPARATOR)
    if len(ends) != len(strings):
        raise ValueError(f"a string of {name} holds the separator")
    return {f"{name}-text": text, f"{name}-offsets": arrays.positions(np.concatenate([[0], ends]))}


def _byte_counts(text: np.ndarray, offsets: np.ndarray, block: int = 1 << 16) -> np.ndarray:
    """Each string's bytes (see _strings) counted by bucket, SEPARATOR left out, up to 255.

    Counted a block of strings at a time: a million strings' counts at once would need int64s.
    """
    n = len(offsets) - 1
    out = np.zeros((n, BUCKETS), np.uint8)
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        chunk = text[offsets[lo] : offsets[hi]]
        rows = np.repeat(np.arange(hi - lo), np.diff(offsets[lo : hi + 1]))
        kept = chunk != ord(SEPARATOR)
        counted = np.bincount(
            rows[kept] * BUCKETS + chunk[kept] % BUCKETS, minlength=(hi - lo) * BUCKETS
        )
        out[lo:hi] = np.minimum(counted, 255).reshape(hi - lo, BUCKETS)
    return out


def _string(a: Mapping[str, np.ndarray], name: str, i: int) -> str:
    start, end = a[f"{name}-offsets"][i : i + 2].tolist()
    return a[f"{name}-text"][start : end - len(SEPARATOR)].tobytes().decode("utf-8")


def written_words(texts: Iterable[str]) -> Counter[str]:
    """How often the texts write each word (see WORD), in order of first use."""
    words: Counter[str] = Counter()
    for text in texts:
        words.update(words_in(text))
    return words


def words_in(text: str) -> list[str]:
    """The words the text writes (see WORD), in order."""
    return (ASCII_WORD if text.isascii() else WORD).findall(text)


def apply(question: str, suggestions: list[Suggestion]) -> str:
    """The question with each clear suggestion's word replaced by the corpus's spelling."""
    for suggestion in suggestions:
        if suggestion.clear:
            pattern = rf"(?<![\w-]){re.escape(suggestion.written)}(?![\w-])"
            question = re.sub(pattern, suggestion.meant, question, count=1)
    return question
