"""Parsing a document's text into its title and blocks: prose, infobox fields and list items."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.ingest.sentences import strip_citations

HEADING = re.compile(
    r"^(?:(?P<eq>={1,6})\s*(?P<wiki>.+?)\s*(?P=eq)|(?P<hash>#{1,6})\s+(?P<md>.+?))\s*$"
)
BULLET = re.compile(r"^\s*[-*•]\s+(?P<item>.*\S)\s*$")
FIELD = re.compile(r"^(?P<key>[A-Za-z][\w /&()'-]{0,40}?)\s*:\s*(?P<value>.*)$")
INFOBOX = re.compile(r"^\s*infobox\b.*$", re.IGNORECASE)
# Wiki infobox values keep list markup (`, * Syrian Army, ** 3rd Armoured Division`) and empty
# leftovers (`()`, `----`); none of it is text a reader wants to see.
VALUE_NOISE = re.compile(r"(?:^|(?<=[\s,]))\*+\s|-{3,}|\(\s*\)")
REPEATED_COMMAS = re.compile(r"\s*,(?:\s*,)+")


@dataclass(frozen=True)
class Block:
    """A run of a document's text that becomes one or more passages."""

    kind: str  # "prose", "infobox" or "list"
    section: str | None
    text: str
    start: int
    end: int
    label: str | None = None
    # Where each character of `text` came from in the file, when that is not simply `start` on:
    # readers that join lines, undo hyphens or drop markup (see qa.ingest.readers) say so here.
    origin: Sequence[int] | None = None


@dataclass(frozen=True)
class ParsedDocument:
    """What every reader gives the passage builder: a title, section names and blocks."""

    title: str
    sections: list[str]
    blocks: list[Block]
    # A paged document's page starts in its offsets (the pages' texts end to end): a passage
    # at offset x is on the last page starting at or before x. Empty: not a paged document.
    pages: Sequence[int] = ()


def parse_document(text: str, fallback_title: str) -> ParsedDocument:
    """Splits a document into its title, section names and blocks, with offsets into `text`.

    The title is a `= Title =` (or `# Title`) first line, else the first line of the file.
    """
    all_lines = list(_lines(text))
    title, lines = _title(text, all_lines, fallback_title)
    parsed = _body(text, title, lines)
    if not parsed.blocks and len(lines) < len(all_lines) and not HEADING.match(text.lstrip()):
        # A one-line note: its only line is its title and its text.
        parsed = _body(text, title, all_lines)
    return parsed


def _body(text: str, title: str, lines: list[tuple[int, int]]) -> ParsedDocument:
    sections: list[str] = []
    blocks: list[Block] = []
    section: str | None = None
    paragraph: list[tuple[int, int]] = []
    in_infobox = False

    def flush() -> None:
        if paragraph:
            start, end = paragraph[0][0], paragraph[-1][1]
            blocks.append(Block("prose", section, text[start:end], start, end))
            paragraph.clear()

    for start, end in lines:
        line = text[start:end]
        heading = HEADING.match(line)
        bullet = BULLET.match(line)
        if not line.strip():
            flush()
            in_infobox = False
        elif heading:
            flush()
            section = (heading.group("wiki") or heading.group("md")).strip()
            sections.append(section)
            in_infobox = False
        elif INFOBOX.match(line) and not paragraph:
            in_infobox = True
        elif bullet:
            flush()
            item_start = start + bullet.start("item")
            item_end = start + bullet.end("item")
            field = FIELD.match(bullet.group("item")) if in_infobox else None
            if field:
                blocks.extend(_field(field, section, item_start, item_end))
            else:
                blocks.append(
                    Block("list", section, text[item_start:item_end], item_start, item_end)
                )
        else:
            paragraph.append((start, end))
    flush()
    return ParsedDocument(title, sections, blocks)


def humanize_key(key: str) -> str:
    """`Casualties3` -> `Casualties`, `Partof` -> `Part of`, `units_1` -> `Units`."""
    key = re.sub(r"[\s_]*\d+$", "", key).replace("_", " ").strip()
    key = re.sub(r"(?i)^partof$", "Part of", key)
    return key[:1].upper() + key[1:]


def clean_value(value: str) -> str:
    """An infobox value without its list markup and empty leftovers."""
    value = REPEATED_COMMAS.sub(",", VALUE_NOISE.sub(" ", value))
    value = re.sub(r"\s+,", ",", value)
    return re.sub(r"\s+", " ", value).strip(" ,")


def _field(field: re.Match, section: str | None, start: int, end: int) -> list[Block]:
    value = clean_value(field.group("value"))
    if not re.search(r"\w", value):
        return []
    label = humanize_key(field.group("key"))
    return [Block("infobox", section, f"{label}: {value}", start, end, label)]


def _lines(text: str):
    """(start, end) of every line, without its line break."""
    pos = 0
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\r\n")
        yield pos, pos + len(stripped)
        pos += len(line)


def _title(text: str, lines: list[tuple[int, int]], fallback: str) -> tuple[str, list]:
    """The document's title and the lines after it."""
    for i, (start, end) in enumerate(lines):
        line = text[start:end].strip()
        if not line:
            continue
        heading = HEADING.match(line)
        if heading and len(heading.group("eq") or heading.group("hash")) == 1:
            return (heading.group("wiki") or heading.group("md")).strip(), lines[i + 1 :]
        if heading or BULLET.match(line) or INFOBOX.match(line):
            return fallback, lines[i:]
        return strip_citations(line), lines[i + 1 :]
    return fallback, []
