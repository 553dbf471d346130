"""Properties of the parser, the sentence splitter and the analyzer on arbitrary Unicode.

Texts mix any Unicode with the fragments that carry structure (titles, sections, infobox fields,
citation marks, abbreviations, line breaks of every kind). Whatever the text: nothing raises, no
piece of text is lost or duplicated, and every offset points at the text it claims.
"""

from __future__ import annotations

import re
import string
from itertools import islice

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nltk.tokenize.punkt import PunktLanguageVars, PunktSentenceTokenizer, PunktToken

from qa.index.counting import TermCounter, TermCounts
from qa.ingest.corpus import build_document
from qa.ingest.parse import BULLET, FIELD, HEADING, INFOBOX, clean_value, parse_document
from qa.ingest.sentences import CITATION, punkt, split_sentences, strip_citations
from qa.text.analyze import APOSTROPHES, INNER_APOSTROPHE, TOKENIZER, Analyzer, fold, tokens

# A run-on sentence long enough to be cut at its citation marks and clauses.
RUN_ON = " ".join(f"w{i}[{i}]" if i % 7 == 0 else f"word{i}," for i in range(90))
FRAGMENTS = [
    "= T =",
    "== S ==",
    "# T",
    "## S",
    "Infobox",
    "- Key: value",
    "- Casualties3: 25 civilians killed[4]",
    "- Units1: , * Syrian Army, ** 3rd Division ----",
    "- Date: ()",
    "- item",
    "* item",
    "• item",
    "[12]",
    "[1][35]",
    "[",
    "]",
    ". ",
    "? ",
    "Gen. ",
    "No. 5 ",
    "U.S.-led ",
    "4,000 km² ",
    "1,400–1,440+ ",
    "Kobanî ",
    "al-Sha'arani ",
    "\n",
    "\n\n",
    "\r\n",
    "\t",
    "\x0c",
    "\x85",
    "\u2028",
    "\u00a0",
    RUN_ON,
]
TEXTS = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=30).map(
    "".join
) | st.text(max_size=300)
# Plain ASCII text, where the analyzer and Punkt take their shortcuts.
ASCII_FRAGMENTS = [f for f in FRAGMENTS if f.isascii()]
ASCII = st.lists(
    st.one_of(st.sampled_from(ASCII_FRAGMENTS), st.text(string.printable, max_size=12)),
    max_size=30,
).map("".join)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def non_space(text: str) -> str:
    return "".join(text.split())


def spans_increase(spans: list[tuple[int, int]], size: int) -> bool:
    """Every span is non-empty, inside the text, and after the one before it."""
    ends = [0] + [end for _, end in spans]
    return all(
        previous <= start < end <= size for (start, end), previous in zip(spans, ends, strict=False)
    )


# ---------- sentences ----------


@PROPERTY
@given(TEXTS)
def test_sentences_hold_every_character_once_in_order(block):
    sentences = split_sentences(block)
    assert spans_increase([(s.start, s.end) for s in sentences], len(block))
    # Every non-space character outside citation marks is in exactly one sentence, in order.
    assert "".join(non_space(s.text) for s in sentences) == non_space(CITATION.sub("", block))


@PROPERTY
@given(TEXTS)
def test_sentence_offsets_point_at_their_text(block):
    for sentence in split_sentences(block):
        assert strip_citations(block[sentence.start : sentence.end]) == sentence.text
        assert sentence.references == tuple(
            int(n) for n in CITATION.findall(block[sentence.start : sentence.end])
        )


# NLTK's Punkt as it comes, with the parameters ours has: no memo, no faster tokens.
NLTK_PUNKT = PunktSentenceTokenizer(
    punkt()._params, lang_vars=PunktLanguageVars(), token_cls=PunktToken
)


@PROPERTY
@given(TEXTS | ASCII)
def test_punkt_splits_as_nltks_own_does(block):
    spans = list(NLTK_PUNKT.span_tokenize(block))
    assert list(punkt().span_tokenize(block)) == spans
    assert punkt().spans(block) == spans


# Words before a sentence end: Punkt's abbreviations and collocations' first words among them.
BEFORE_END = st.sampled_from(
    sorted(punkt()._params.abbrev_types)[::7]
    + sorted({first for first, _ in punkt()._params.collocations})[::3]
    + ["attack", "Gen", "No", "St", "US", "ISIL", "al", "Jan", "i", "A", "Kobanî"]
) | st.text("abcAB.-'(0", min_size=1, max_size=6)
AFTER_END = st.sampled_from(
    ["The", "the", "5", "U.S.", "Smith.)", "(Kurds", "Jan.", '"He']
) | st.text(string.printable, min_size=1, max_size=6)


@settings(max_examples=3000, deadline=None)
@given(
    BEFORE_END, st.sampled_from(".?!"), st.sampled_from([" ", "  ", "\n", "\u00a0", ""]), AFTER_END
)
def test_punkt_finds_a_break_in_a_context_as_nltks_own_does(before, end, space, after):
    context = before + end + space + after
    assert punkt().text_contains_sentbreak(context) == NLTK_PUNKT.text_contains_sentbreak(context)


# ---------- documents ----------


def lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line, as str.splitlines sees lines, without the line break."""
    spans, pos = [], 0
    for line in text.splitlines(keepends=True):
        spans.append((pos, pos + len(line.rstrip("\r\n"))))
        pos += len(line)
    return spans


def markup_only(line: str) -> bool:
    """A heading, an infobox header or an infobox field with nothing to say: not a passage."""
    bullet = BULLET.match(line)
    field = bullet and FIELD.match(bullet.group("item"))
    empty_field = bool(field) and not re.search(r"\w", clean_value(field.group("value")))
    return bool(HEADING.match(line) or INFOBOX.match(line) or empty_field)


@PROPERTY
@given(TEXTS)
def test_blocks_cover_every_line_once(text):
    parsed = parse_document(text, "fallback")
    assert spans_increase([(b.start, b.end) for b in parsed.blocks], len(text))
    written = [(s, e) for s, e in lines(text) if text[s:e].strip()]
    for number, (start, end) in enumerate(written):
        line = text[start:end]
        covering = [b for b in parsed.blocks if b.start < end and start < b.end]
        if not covering:
            # Only markup goes uncovered, and the first line, which may be the title.
            assert markup_only(line) or (number == 0 and not BULLET.match(line)), (line, parsed)
        assert len(covering) <= 1, (line, covering)


@PROPERTY
@given(TEXTS)
def test_block_offsets_point_at_their_text(text):
    for block in parse_document(text, "fallback").blocks:
        if block.kind == "infobox":
            # A field's text is rewritten (`Casualties3` -> `Casualties`); its span is the item's.
            assert block.text.startswith(f"{block.label}: ")
            assert FIELD.match(text[block.start : block.end])
        else:
            assert text[block.start : block.end] == block.text


@PROPERTY
@given(TEXTS)
def test_passage_offsets_point_at_their_text(text):
    document = build_document("doc", "doc.txt", text)
    spans = [(p.start, p.end) for p in document.passages]
    assert spans_increase(spans, len(text))
    for passage in document.passages:
        assert passage.text and passage.text == passage.text.strip()
        if passage.kind != "infobox":
            assert passage.text == strip_citations(text[passage.start : passage.end])


# ---------- the analyzer ----------


WARM = Analyzer()  # its memo of stems grows across examples, as a serving engine's does


def pattern_tokens(text: str) -> list[str]:
    """The analyzer's tokens as its pattern finds them, with no shortcut for plain text."""
    folded = fold(text)
    if any(a in folded for a in APOSTROPHES):
        folded = INNER_APOSTROPHE.sub("", folded)
    return [t.replace(",", "") for t in TOKENIZER.findall(folded)]


@PROPERTY
@given(TEXTS | ASCII)
def test_tokens_are_the_patterns_tokens(text):
    assert tokens(text) == pattern_tokens(text)


@PROPERTY
@given(TEXTS, TEXTS)
def test_terms_are_words_and_words_do_not_interact(first, second):
    terms = Analyzer().terms(first)
    assert all(term and not any(c.isspace() for c in term) for term in terms)
    # The memo never changes a result, and text on either side of a space is analyzed alone.
    assert WARM.terms(first) == terms
    assert WARM.terms(f"{first} {second}") == terms + Analyzer().terms(second)


# One counter across examples: it remembers every token it met, as a reading worker's does.
COUNTER = TermCounter(Analyzer().token_terms)


def passage_terms(counts: TermCounts, terms: list[str]) -> list[list[tuple[str, int]]]:
    """Each passage's (term, count) pairs in the order the counts hold them, terms by number."""
    pairs = iter(zip(counts.term_ids.tolist(), counts.counts.tolist(), strict=True))
    return [[(terms[t], c) for t, c in islice(pairs, n)] for n in counts.distinct.tolist()]


@PROPERTY
@given(st.lists(TEXTS | ASCII, max_size=12), st.integers(1, 4))
def test_a_term_counter_counts_as_the_analyzers_term_lists_do(texts, parts):
    before = set(COUNTER.coder.all_strings().strings)
    size = -(-len(texts) // parts) or 1
    told = []
    for i in range(0, len(texts), size):
        counted = COUNTER.counts(map(tokens, texts[i : i + size]))
        plain = TermCounts.of([Analyzer().terms(text) for text in texts[i : i + size]])
        assert counted.lengths.tolist() == plain.lengths.tolist()
        coded = COUNTER.coder.all_strings().strings
        assert passage_terms(counted, coded) == passage_terms(plain, plain.terms)
        told += counted.terms
    # Only terms new to the counter are told, in order of first use.
    terms = [t for text in texts for t in Analyzer().terms(text)]
    assert told == [t for t in dict.fromkeys(terms) if t not in before]
