"""A folder of documents: its files, their fingerprint, and each file read into passages.

Every file that cannot be used is reported with the reason; qa.index.build reads a whole folder
on every CPU with these pieces.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from qa.ingest.parse import Block, parse_document
from qa.ingest.passages import Passage, PassageTable, passage_id
from qa.ingest.sentences import CITATION, split_sentences, strip_citations
from qa.settings import cpus

TEXT_SUFFIXES = {".txt", ".md"}


class CorpusError(Exception):
    """The corpus folder cannot be used at all."""


@dataclass
class Document:
    id: str
    title: str
    path: str
    sections: list[str]
    passages: Sequence[Passage] = field(default_factory=list)


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    file: str
    reason: str


@dataclass
class Corpus:
    documents: list[Document]
    skipped: list[Skipped]
    table: PassageTable  # every passage, in document order; each document's passages view it
    # The fingerprint of the files as they were read, which may differ from the folder's now.
    fingerprint: str = ""
    # How often the passages, then the titles, write each word (see spelling.written_words),
    # as the lexicon counts them; known when the files are read, not when an index is loaded.
    words: Counter[str] = field(default_factory=Counter)

    def passages(self) -> Iterator[Passage]:
        return iter(self.table)


def corpus_files(folder: Path) -> list[Path]:
    """The .txt and .md files below `folder`, in a stable order; hidden files are passed over."""
    if not folder.is_dir():
        raise CorpusError(f"corpus folder not found: {folder}")
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(root, name)
            if not name.startswith(".") and path.suffix.lower() in TEXT_SUFFIXES:
                files.append(path)
    return files


def fingerprint(folder: Path) -> str:
    """A digest of every corpus file's name and content: any change gives another value."""
    files = corpus_files(folder)
    # Reading and hashing release the GIL, so threads hash files on every CPU at once. Each thread
    # takes a few shares of the files: a task per file costs more in hand-offs than hashing it.
    size = max(1, -(-len(files) // (4 * cpus())))
    shares = [files[i : i + size] for i in range(0, len(files), size)]
    with ThreadPoolExecutor(cpus()) as pool:
        digests = chain.from_iterable(pool.map(_digests, shares))
        return fingerprint_of(folder, files, digests)


def _digests(files: list[Path]) -> list[bytes]:
    return [content_digest(read_bytes(path)) for path in files]


def fingerprint_of(folder: Path, files: Iterable[Path], digests: Iterable[bytes]) -> str:
    """The fingerprint of the listed files, given the digest of each one's content."""
    digest = hashlib.blake2b(digest_size=16)
    for path, content in zip(files, digests, strict=True):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(content)
    return digest.hexdigest()


def read_bytes(path: Path) -> bytes | OSError:
    """The file's content, or what kept it from being read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        return exc


def content_digest(content: bytes | OSError) -> bytes:
    if isinstance(content, OSError):
        return type(content).__name__.encode()
    return hashlib.blake2b(content, digest_size=16).digest()


def read_document(folder: Path, path: Path, content: bytes | OSError) -> Document | Skipped:
    """The document of the file's content, with its slug for an id, or why it cannot be used."""
    name = path.relative_to(folder).as_posix()
    try:
        text = decode_text(content)
    except ValueError as exc:
        return Skipped(name, str(exc))
    document = build_document(slugify(name), name, text)
    if not document.passages:
        return Skipped(name, "no text to index (only headings or markup)")
    return document


def decode_text(data: bytes | OSError) -> str:
    """A file's text; ValueError with a reader's explanation when it cannot be used."""
    if isinstance(data, OSError):
        raise ValueError(f"cannot be read: {data.strerror or data}") from data
    if not data.strip():
        raise ValueError("empty file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from exc
    if "\x00" in text:
        raise ValueError("binary content (NUL bytes), not a text document")
    return text


def build_document(doc_id: str, name: str, text: str) -> Document:
    fallback_title = Path(name).stem.replace("-", " ").replace("_", " ")
    parsed = parse_document(text, fallback_title)
    passages: list[Passage] = []
    for block in parsed.blocks:
        for kind, section, passage_text, start, end, refs, label in _block_passages(block):
            ordinal = len(passages)
            passages.append(
                Passage(
                    passage_id(doc_id, ordinal),
                    doc_id,
                    ordinal,
                    kind,
                    section,
                    passage_text,
                    start,
                    end,
                    refs,
                    label,
                )
            )
    return Document(doc_id, parsed.title, name, parsed.sections, passages)


def _block_passages(block: Block):
    if block.kind == "prose":
        for sentence in split_sentences(block.text):
            yield (
                "prose",
                block.section,
                sentence.text,
                block.start + sentence.start,
                block.start + sentence.end,
                sentence.references,
                None,
            )
        return
    text = strip_citations(block.text)
    if text:
        refs = tuple(int(n) for n in CITATION.findall(block.text))
        yield block.kind, block.section, text, block.start, block.end, refs, block.label


def slugify(name: str) -> str:
    """A URL-safe id from a file name: `Al-Hasakah city.txt` -> `al-hasakah-city`."""
    stem = name.rsplit(".", 1)[0]
    ascii_name = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:80].strip("-") or "document"


def unique_id(slug: str, used: set[str]) -> str:
    candidate, n = slug, 2
    while candidate in used:
        candidate, n = f"{slug}-{n}", n + 1
    return candidate
