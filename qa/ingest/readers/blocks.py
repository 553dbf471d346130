"""Blocks gathered by the readers of formats whose markup is not kept (HTML, Word, Markdown)."""

from __future__ import annotations

from collections.abc import Iterable

from qa.ingest.parse import Block, ParsedDocument

# Between two blocks of the extracted text, as between paragraphs of a text file.
GAP = 2


def squeeze(text: str) -> str:
    """White space of every kind (line breaks, tabs, non-breaking spaces) as single spaces."""
    return " ".join(text.split())


class Extract:
    """A document's title, sections and blocks, gathered in document order.

    The blocks' offsets are into the document's extracted text: each block's text, a blank line
    between two, so that a passage's start and end locate it as they do in a text file.
    """

    def __init__(self, fallback_title: str) -> None:
        self.title: str | None = None
        self.fallback_title = fallback_title
        self.sections: list[str] = []
        self.section: str | None = None
        self.blocks: list[Block] = []
        self.length = 0

    def heading(self, text: str, level: int) -> None:
        """A heading: the first top-level one is the title unless there is one, others sections."""
        text = squeeze(text)
        if not text or text == self.title:
            return
        if level == 1 and self.title is None:
            self.title = text
            return
        self.sections.append(text)
        self.section = text

    def add(self, kind: str, text: str, label: str | None = None) -> None:
        text = squeeze(text)
        if not text:
            return
        start = self.length + GAP if self.blocks else 0
        self.blocks.append(Block(kind, self.section, text, start, start + len(text), label))
        self.length = start + len(text)

    def row(self, cells: Iterable[str]) -> None:
        """A table row, one passage: its non-empty cells in order."""
        self.add("list", " | ".join(c for c in map(squeeze, cells) if c))

    def document(self) -> ParsedDocument:
        return ParsedDocument(self.title or self.fallback_title, self.sections, self.blocks)
