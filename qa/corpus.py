"""Reading a folder of documents into passages, reporting every file that cannot be used."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qa.parse import Block, parse_document
from qa.sentences import CITATION, split_sentences, strip_citations

TEXT_SUFFIXES = {".txt", ".md"}


class CorpusError(Exception):
    """The corpus folder cannot be used at all."""


@dataclass(frozen=True)
class Passage:
    """The unit of retrieval: a sentence, an infobox field or a list item."""

    id: str
    document: str
    ordinal: int
    kind: str
    section: str | None
    text: str
    start: int
    end: int
    references: tuple[int, ...] = ()
    label: str | None = None


@dataclass
class Document:
    id: str
    title: str
    path: str
    sections: list[str]
    passages: list[Passage] = field(default_factory=list)


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    file: str
    reason: str


@dataclass
class Corpus:
    documents: list[Document]
    skipped: list[Skipped]

    def passages(self) -> Iterator[Passage]:
        for document in self.documents:
            yield from document.passages


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
    digest = hashlib.blake2b(digest_size=16)
    for path in corpus_files(folder):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        try:
            digest.update(hashlib.blake2b(path.read_bytes(), digest_size=16).digest())
        except OSError as exc:
            digest.update(type(exc).__name__.encode())
    return digest.hexdigest()


def read_corpus(folder: Path) -> Corpus:
    """Every usable document of the folder; the others are listed in `skipped` with a reason."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    used_ids: set[str] = set()
    for path in corpus_files(folder):
        name = path.relative_to(folder).as_posix()
        try:
            text = read_text(path)
        except ValueError as exc:
            skipped.append(Skipped(name, str(exc)))
            continue
        doc_id = unique_id(slugify(name), used_ids)
        document = build_document(doc_id, name, text)
        if not document.passages:
            skipped.append(Skipped(name, "no text to index (only headings or markup)"))
            continue
        used_ids.add(doc_id)
        documents.append(document)
    return Corpus(documents, skipped)


def read_text(path: Path) -> str:
    """The file's text; ValueError with a reader's explanation when it cannot be used."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot be read: {exc.strerror or exc}") from exc
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
    document = Document(doc_id, parsed.title, name, parsed.sections)
    for block in parsed.blocks:
        for kind, section, passage_text, start, end, refs, label in _block_passages(block):
            ordinal = len(document.passages)
            document.passages.append(
                Passage(
                    f"{doc_id}:{ordinal}",
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
    return document


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
