"""Spelling suggestions from the corpus's own words: `Hasakeh` -> `Al-Hasakah`."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np

from qa.analyze import fold, stopwords
from qa.codes import by_first_use

# A written word with its hyphenated parts (`Al-Hasakah`), as the corpus spells it.
WORD = re.compile(r"[^\W\d_][\w'’]*(?:-[^\W\d_][\w'’]*)*")
MIN_LENGTH = 5
MAX_LENGTH_CHANGE = 3
# How alike a word and a corpus word must be: names (capitalised in the question) get more
# latitude than common words, which are far more often right words the corpus lacks.
NAME_SIMILARITY = 0.74
WORD_SIMILARITY = 0.85
# The best match is clear when no other corpus word comes this close to it.
CLEAR_MARGIN = 0.06


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
    """Every word of the corpus, folded, with how the corpus most often writes it."""

    def __init__(self, spellings: dict[str, str], counts: dict[str, int]) -> None:
        self.spellings = spellings
        self.counts = counts
        # Candidates are looked up by initial and length, so a large corpus's lexicon is not
        # scanned whole for every unknown word.
        self._by_shape: dict[tuple[str, int], list[str]] = defaultdict(list)
        for word in counts:
            self._by_shape[word[0], len(word)].append(word)

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
            return cls({}, {})
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
        spellings = dict(zip(words, [units[u] for u in pair_unit[best].tolist()], strict=True))
        return cls(spellings, dict(zip(words, counts.tolist(), strict=True)))

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
        if len(word) < MIN_LENGTH or word in self.counts or word in stopwords():
            return None
        floor = NAME_SIMILARITY if is_name else WORD_SIMILARITY
        scored = sorted(
            (
                (self._similarity(word, other), self.counts[other], other)
                for other in self._near(word)
            ),
            reverse=True,
        )
        if not scored or scored[0][0] < floor:
            return None
        best_score, _, best = scored[0]
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        clear = best_score - runner_up >= CLEAR_MARGIN
        return Suggestion(written, self.spellings[best], best, clear)

    def _near(self, word: str) -> list[str]:
        """Corpus words that could be a misspelling's target: same initial, similar length."""
        lengths = range(len(word) - MAX_LENGTH_CHANGE, len(word) + MAX_LENGTH_CHANGE + 1)
        return [w for n in lengths for w in self._by_shape.get((word[0], n), ())]

    @staticmethod
    def _similarity(a: str, b: str) -> float:
        matcher = SequenceMatcher(None, a, b, autojunk=False)
        return matcher.ratio() if matcher.quick_ratio() >= NAME_SIMILARITY else 0.0

    def as_json(self) -> dict:
        return {"spellings": self.spellings, "counts": self.counts}

    @classmethod
    def from_json(cls, data: dict) -> Lexicon:
        return cls(dict(data["spellings"]), {k: int(v) for k, v in data["counts"].items()})


def written_words(texts: Iterable[str]) -> Counter[str]:
    """How often the texts write each word (see WORD), in order of first use."""
    words: Counter[str] = Counter()
    for text in texts:
        words.update(WORD.findall(text))
    return words


def apply(question: str, suggestions: list[Suggestion]) -> str:
    """The question with each clear suggestion's word replaced by the corpus's spelling."""
    for suggestion in suggestions:
        if suggestion.clear:
            pattern = rf"(?<![\w-]){re.escape(suggestion.written)}(?![\w-])"
            question = re.sub(pattern, suggestion.meant, question, count=1)
    return question
