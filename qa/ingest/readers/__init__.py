"""Readers: a file's bytes -> its title, sections and blocks, one module per format.

Every reader gives the same intermediate (qa.ingest.parse.ParsedDocument), from which
qa.ingest.corpus builds the passages, so sentences, citation marks and passage ids are made in
one place whatever the format. A reader raises ValueError, with a reason a person can act on,
for a file it cannot use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from qa.ingest.parse import ParsedDocument

# (content, fallback title) -> the document's parts
Reader = Callable[[bytes, str], ParsedDocument]

# Each suffix's module here. A module is imported when a file of its type is first read:
# python-docx, pypdfium2 and the parsers take a quarter of a second that an update of one text
# file need not wait for.
READERS: dict[str, str] = {
    ".txt": "text",
    ".md": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
UNSUPPORTED = f"not a supported type ({' '.join(READERS)})"


def supported(suffix: str) -> bool:
    """Whether qa reads files with this suffix (any case)."""
    return suffix.lower() in READERS


def reader_for(suffix: str) -> Reader | None:
    """The reader of files with this suffix (any case), None for a type qa does not read."""
    module = READERS.get(suffix.lower())
    return None if module is None else importlib.import_module(f"{__name__}.{module}").read
