"""Spelling suggestions from the corpus's own words: `Hasakeh` -> `Al-Hasakah`."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from qa.analyze import fold, stopwords

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
        units: Counter[str] = Counter()
        for text in texts:
            units.update(WORD.findall(text))
        counts: Counter[str] = Counter()
        written: dict[str, Counter[str]] = defaultdict(Counter)
        # Each distinct written word is folded once, however often the corpus uses it.
        for unit, n in units.items():
            for part in fold(unit).split("-"):
                counts[part] += n
                written[part][unit] += n
        spellings = {word: forms.most_common(1)[0][0] for word, forms in written.items()}
        return cls(spellings, dict(counts))

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


def apply(question: str, suggestions: list[Suggestion]) -> str:
    """The question with each clear suggestion's word replaced by the corpus's spelling."""
    for suggestion in suggestions:
        if suggestion.clear:
            pattern = rf"(?<![\w-]){re.escape(suggestion.written)}(?![\w-])"
            question = re.sub(pattern, suggestion.meant, question, count=1)
    return question
