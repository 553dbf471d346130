"""Markdown (CommonMark with tables), parsed by markdown-it-py: headings, paragraphs, list
items and table rows; code is not sentences and is left out, and so is raw HTML.

Which .md files are Markdown: a .md file written in the default corpus's wiki style (a
`== Section ==` heading or an `Infobox` block, which Markdown would read as paragraphs of
equals signs and `Key: value` lines) keeps the wiki parser, as every .md file had until
Markdown was read; every other .md file is Markdown. `# Title` and `## Section` mean the same
to both, so the wiki-style notes in tests/ read alike either way.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from qa.ingest.parse import ParsedDocument
from qa.ingest.readers import text
from qa.ingest.readers.blocks import Extract

# A setext heading's underline (`=====`) is all equals signs: no text between them.
WIKI_STYLE = re.compile(r"^\s*(?:(={1,6})\s*[^=\s].*?\s*\1\s*|infobox\b.*)$", re.MULTILINE | re.I)
# What an inline token gives of its text; links and emphasis give their children's.
INLINE_TEXT = {"text", "code_inline"}
BREAKS = {"softbreak", "hardbreak"}


def read(data: bytes, fallback_title: str) -> ParsedDocument:
    source = text.decode_text(data)
    if WIKI_STYLE.search(source):
        return text.read(data, fallback_title)
    return parse_markdown(source, fallback_title)


def parse_markdown(source: str, fallback_title: str) -> ParsedDocument:
    extract = Extract(fallback_title)
    heading: int | None = None
    items = 0  # list items open
    row: list[str] | None = None
    # Raw HTML comes as tokens of its own, which are dropped: never rendered, never text.
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    for token in parser.parse(source):
        kind = token.type
        if kind == "heading_open":
            heading = int(token.tag[1:])
        elif kind == "heading_close":
            heading = None
        elif kind == "list_item_open":
            items += 1
        elif kind == "list_item_close":
            items -= 1
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            extract.row(row)
            row = None
        elif kind == "inline":
            content = _plain(token)
            if heading is not None:
                extract.heading(content, heading)
            elif row is not None:
                row.append(content)
            else:
                extract.add("list" if items else "prose", content)
    return extract.document()


def _plain(token: Token) -> str:
    return "".join(
        child.content if child.type in INLINE_TEXT else " " if child.type in BREAKS else ""
        for child in token.children or ()
    )
