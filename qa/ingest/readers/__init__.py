"""Readers: a file's bytes -> its title, sections and blocks, one module per format.

Every reader gives the same intermediate (qa.ingest.parse.ParsedDocument), from which
qa.ingest.corpus builds the passages, so sentences, citation marks and passage ids are made in
one place whatever the format. A reader raises ValueError, with a reason a person can act on,
for a file it cannot use.
"""

from __future__ import annotations

from collections.abc import Callable

from qa.ingest.parse import ParsedDocument
from qa.ingest.readers import docx, html, markdown, pdf, text

# (content, fallback title) -> the document's parts
Reader = Callable[[bytes, str], ParsedDocument]

READERS: dict[str, Reader] = {
    ".txt": text.read,
    ".md": markdown.read,
    ".html": html.read,
    ".htm": html.read,
    ".pdf": pdf.read,
    ".docx": docx.read,
}
UNSUPPORTED = f"not a supported type ({' '.join(READERS)})"


def reader_for(suffix: str) -> Reader | None:
    """The reader of files with this suffix (any case), None for a type qa does not read."""
    return READERS.get(suffix.lower())
