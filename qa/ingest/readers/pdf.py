"""PDF documents, read page by page by pypdfium2 (PDFium's text layer; Apache-2.0/BSD).

The pages' lines are joined into prose, so that a sentence crossing a line or a page break is
one sentence; a word hyphenated at a line end is made whole again; running headers, footers and
page numbers (lines at a page's edge that recur, digits aside, on half the pages) are dropped.
Lines in a font larger than the body's are headings: the first one is the title when the
metadata has none, the others sections. Every character keeps where it came from, so a passage
knows its page and its range in that page's text (qa.ingest.corpus).
"""

from __future__ import annotations

import math
import re
from array import array
from collections import Counter
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from qa.ingest.parse import Block, ParsedDocument
from qa.ingest.readers.blocks import squeeze
from qa.settings import Settings

HYPHENS = "-\u00ad\u2010"
# A line in a font this much larger than the body's is a heading.
LARGE = 1.2
# Headings are short; a large line longer than this is text set large.
HEADING_CHARS = 150
# How many lines at the top and at the bottom of a page may be running headers or footers.
EDGE = 2
# A line ending a sentence ends a paragraph when the next line's first word would have fitted
# after it, a space of this many ems between, before the right edge of the document's full
# lines: so the line was broken on purpose. So does a line followed by a gap this much larger
# than the usual distance between lines.
SPACE = 0.5
GAP = 1.3
# The right edge of the full lines: this share of the lines ends before it.
FULL = 0.9
WORD = re.compile(r"\S+")
LINE = re.compile(r"[^\r\n]+")
SENTENCE_END = re.compile(r"[.!?:;\"'”’)\]]$")


@dataclass(frozen=True)
class Line:
    text: str
    at: int  # where it starts in the pages' texts end to end
    size: float  # its first character's font size, in points
    page: int
    top: float  # the top of its first character, in points from the page's foot
    right: float  # the right edge of its last character, in points
    first_word: float  # the width of its first word, in points


def read(data: bytes, fallback_title: str) -> ParsedDocument:
    limit = Settings.from_env().max_pages
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise ValueError("encrypted PDF: it needs a password; save a copy without one") from exc
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_SECURITY:
            raise ValueError("encrypted PDF with an unsupported security handler") from exc
        raise ValueError(f"damaged or truncated PDF ({_reason(exc)})") from exc
    try:
        if len(pdf) > limit:
            raise ValueError(f"{len(pdf):,} pages, over the limit of {limit:,} (QA_MAX_PAGES)")
        title = squeeze(pdf.get_metadata_value("Title") or "")
        pages, starts = [], []
        at = 0
        for number in range(len(pdf)):
            starts.append(at)
            length, lines = _page(pdf, number, at)
            pages.append(lines)
            at += length
    except pdfium.PdfiumError as exc:
        raise ValueError(f"damaged PDF ({_reason(exc)})") from exc
    finally:
        pdf.close()
    # A document of nothing but lines that recur on every page has no running lines but those.
    lines = _without_running(pages) or [line for lines in pages for line in lines]
    if not lines:
        raise ValueError("no text layer; scanned PDFs need OCR first")
    return _document(lines, title or None, fallback_title, starts)


def _reason(exc: pdfium.PdfiumError) -> str:
    """PDFium's own words: `Data format error` out of `Failed to load document (PDFium: …).`"""
    found = re.search(r"PDFium: ([^)]*)", str(exc))
    return found.group(1) if found else str(exc)


def _page(pdf: pdfium.PdfDocument, number: int, at: int) -> tuple[int, list[Line]]:
    """The length of the page's text and its non-blank lines."""
    page = pdf[number]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
            lines = []
            for match in LINE.finditer(text):
                first = WORD.search(match.group())
                if first is None:
                    continue
                index = match.start() + first.start()
                size = pdfium_c.FPDFText_GetFontSize(textpage.raw, index)
                left, _, _, top = textpage.get_charbox(index)
                word_end = textpage.get_charbox(match.start() + first.end() - 1)[2]
                last = match.start() + len(match.group().rstrip()) - 1
                right = textpage.get_charbox(last)[2]
                line = Line(
                    match.group(), at + match.start(), size, number, top, right, word_end - left
                )
                lines.append(line)
            return len(text), lines
        finally:
            textpage.close()
    finally:
        page.close()


def _without_running(pages: list[list[Line]]) -> list[Line]:
    """Every line but the running headers, footers and page numbers, in reading order."""

    def key(line: Line) -> str:
        return re.sub(r"\d+", "#", squeeze(line.text).casefold())

    def edges(lines: list[Line]) -> list[Line]:
        return lines if len(lines) <= 2 * EDGE else lines[:EDGE] + lines[-EDGE:]

    counts = Counter(k for lines in pages for k in {key(line) for line in edges(lines)})
    needed = max(2, math.ceil(sum(1 for lines in pages if lines) / 2))
    kept = []
    for lines in pages:
        running = {id(line) for line in edges(lines) if counts[key(line)] >= needed}
        kept += [line for line in lines if id(line) not in running]
    return kept


def _document(lines: list[Line], title: str | None, fallback: str, starts: list[int]):
    body = _body_size(lines)

    def heading(line: Line) -> bool:
        return line.size >= LARGE * body and len(line.text.strip()) <= HEADING_CHARS

    # The large lines the document opens with are its title, when it shows one.
    opening = 0
    while opening < len(lines) and lines[opening].page == lines[0].page and heading(lines[opening]):
        opening += 1
    if opening:
        title = title or squeeze(" ".join(line.text for line in lines[:opening]))
    edge = _right_edge(lines)
    spacing = _spacing(lines)
    sections: list[str] = []
    blocks: list[Block] = []
    section: str | None = None
    prose = _Joined()
    pending: list[str] = []  # the lines of a heading being read

    def end_block() -> None:
        if prose.origin:
            text, origin = prose.take()
            blocks.append(Block("prose", section, text, origin[0], origin[-1] + 1, None, origin))

    previous: Line | None = None
    body_lines = lines[opening:]
    for line, following in zip(body_lines, [*body_lines[1:], None], strict=True):
        if previous and previous.page == line.page and previous.top - line.top > GAP * spacing:
            end_block()
        previous = line
        if heading(line):
            end_block()
            pending.append(line.text)
            continue
        if pending:
            section = squeeze(" ".join(pending))
            sections.append(section)
            pending.clear()
        prose.line(line)
        if SENTENCE_END.search(line.text.strip()) and _room_for(following, line, edge):
            end_block()
    end_block()
    if pending:
        sections.append(squeeze(" ".join(pending)))
    return ParsedDocument(title or fallback, sections, blocks, tuple(starts))


def _body_size(lines: list[Line]) -> float:
    """The font size most of the text is set in."""
    sizes = Counter()
    for line in lines:
        sizes[round(line.size, 1)] += len(line.text)
    return sizes.most_common(1)[0][0]


def _spacing(lines: list[Line]) -> float:
    """The usual distance between the tops of two lines of a page."""
    gaps = Counter(
        round(a.top - b.top, 1) for a, b in zip(lines, lines[1:], strict=False) if a.page == b.page
    )
    positive = [(count, gap) for gap, count in gaps.items() if gap > 0]
    return max(positive)[1] if positive else math.inf


def _right_edge(lines: list[Line]) -> float:
    """Where full lines end: the FULL quantile of the lines' right edges."""
    edges = sorted(line.right for line in lines)
    return edges[int(FULL * (len(edges) - 1))]


def _room_for(following: Line | None, line: Line, edge: float) -> bool:
    """Whether the following line's first word would have fitted at the end of `line`."""
    if following is None:
        return True
    return line.right + SPACE * line.size + following.first_word <= edge


class _Joined:
    """Lines joined into prose, a space between words, with where each character came from."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.origin = array("q")

    def line(self, line: Line) -> None:
        for number, word in enumerate(WORD.finditer(line.text)):
            text, origin = _unhyphenated(word.group(), line.at + word.start())
            if self.parts:
                last = self.parts[-1]
                if number == 0 and _hyphenated(last, text):
                    # `hyphen-` + `ated` at a line break: one word again, the hyphen dropped.
                    self.parts[-1] = last[:-1]
                    self.origin.pop()
                else:
                    self.parts.append(" ")
                    self.origin.append(self.origin[-1] + 1)
            self.parts.append(text)
            self.origin.extend(origin)

    def take(self) -> tuple[str, array]:
        text, origin = "".join(self.parts), self.origin
        self.parts, self.origin = [], array("q")
        return text, origin


def _unhyphenated(word: str, at: int) -> tuple[str, range | list[int]]:
    """A word and where its characters are, a line-end hyphen that PDFium marked in it undone.

    PDFium joins a line ending in a hyphen with the next itself, the hyphen made U+FFFE.
    """
    if "\ufffe" not in word:
        return word, range(at, at + len(word))
    chars, origin = [], []
    for k, char in enumerate(word):
        if char == "\ufffe":
            if word[k - 1 : k].isalpha() and word[k + 1 : k + 2].islower():
                continue
            char = "-"
        chars.append(char)
        origin.append(at + k)
    return "".join(chars), origin


def _hyphenated(last: str, first: str) -> bool:
    return len(last) > 1 and last[-1] in HYPHENS and last[-2].isalpha() and first[:1].islower()
