"""A folder of documents: its files, their fingerprint, and each file read into passages.

Every file that cannot be used is reported with the reason; qa.index.build reads a whole folder
on every CPU with these pieces.
"""

from __future__ import annotations

import bisect
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

from qa.ingest.parse import Block, ParsedDocument, parse_document
from qa.ingest.passages import Passage, PassageTable, passage_id
from qa.ingest.readers import UNSUPPORTED, reader_for, supported
from qa.ingest.sentences import CITATION, split_sentences, strip_citations
from qa.settings import cpus


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
    # The files of types qa does not read, reported as skipped beside those it could not use.
    unsupported: list[Skipped] = field(default_factory=list)
    # The title of each of the table's documents, by number: those deleted from an index's
    # segments too, whose passages stay in the table, never retrieved, until a merge.
    titles: list[str] = field(default_factory=list)
    # The digest of each file's content as read (see content_digest), by its name in the folder.
    digests: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.titles:
            self.titles = [d.title for d in self.documents]

    def passages(self) -> Iterator[Passage]:
        return iter(self.table)


def corpus_files(folder: Path) -> list[Path]:
    """The files below `folder` that qa reads, in a stable order; hidden files are passed over."""
    return listing(folder)[0]


def listing(folder: Path) -> tuple[list[Path], list[Path]]:
    """The files below `folder` that qa reads, and those of types it does not, in a stable
    order; hidden files and folders are in neither."""
    if not folder.is_dir():
        raise CorpusError(f"corpus folder not found: {folder}")
    files, others = [], []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if not name.startswith("."):
                path = Path(root, name)
                (files if supported(path.suffix) else others).append(path)
    return files, others


def corpus_names(folder: Path, paths: Iterable[Path]) -> list[str]:
    """The names in the corpus (relative, "/" between parts) of files that `listing` found."""
    # Cut from the strings: pathlib's relative_to costs more than the rest of a listing.
    prefix = len(str(folder).rstrip(os.sep)) + 1
    return [str(path)[prefix:].replace(os.sep, "/") for path in paths]


def unsupported(folder: Path, paths: Iterable[Path]) -> list[Skipped]:
    """The files of types qa does not read, each reported with the types it does."""
    return [Skipped(path.relative_to(folder).as_posix(), UNSUPPORTED) for path in paths]


def fingerprint(folder: Path) -> str:
    """A digest of every corpus file's name and content: any change gives another value."""
    files, others = listing(folder)
    # Reading and hashing release the GIL, so threads hash files on every CPU at once. Each thread
    # takes a few shares of the files: a task per file costs more in hand-offs than hashing it.
    size = max(1, -(-len(files) // (4 * cpus())))
    shares = [files[i : i + size] for i in range(0, len(files), size)]
    with ThreadPoolExecutor(cpus()) as pool:
        digests = chain.from_iterable(pool.map(_digests, shares))
        return fingerprint_of(folder, files, digests, others)


def _digests(files: list[Path]) -> list[bytes]:
    return [content_digest(read_bytes(path)) for path in files]


def fingerprint_of(
    folder: Path, files: Iterable[Path], digests: Iterable[bytes], others: Iterable[Path] = ()
) -> str:
    """The fingerprint of the listed files, given the digest of each one's content, and of the
    names of the files of other types, which the index reports as skipped."""
    digest = hashlib.blake2b(digest_size=16)
    for path, content in zip(files, digests, strict=True):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(content)
    for path in others:  # by name: their content is never read
        digest.update(b"\0" + path.relative_to(folder).as_posix().encode() + b"\0")
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
    reader = reader_for(path.suffix)
    if reader is None:
        return Skipped(name, UNSUPPORTED)
    try:
        parsed = reader(usable(content), fallback_title(name))
    except ValueError as exc:
        return Skipped(name, str(exc))
    except Exception as exc:
        # A library failing on a malformed file is that file's problem: the others are read.
        return Skipped(name, f"cannot be read as {path.suffix.lower()} ({type(exc).__name__})")
    document = document_of(slugify(name), name, parsed)
    if not document.passages:
        return Skipped(name, "no text to index (only headings or markup)")
    return document


def usable(data: bytes | OSError) -> bytes:
    """The file's content; ValueError when it could not be read or is empty."""
    if isinstance(data, OSError):
        raise ValueError(f"cannot be read: {data.strerror or data}") from data
    if not data.strip():
        raise ValueError("empty file")
    return data


def fallback_title(name: str) -> str:
    """The title of a document that shows none: its file's name."""
    return Path(name).stem.replace("-", " ").replace("_", " ")


def build_document(doc_id: str, name: str, text: str) -> Document:
    """The document of a text in the wiki style."""
    return document_of(doc_id, name, parse_document(text, fallback_title(name)))


def document_of(doc_id: str, name: str, parsed: ParsedDocument) -> Document:
    """The document of a reader's parts: its blocks cut into passages."""
    passages: list[Passage] = []
    for block in parsed.blocks:
        passages_of_block = _block_passages(block)
        for number, (kind, section, passage_text, start, end, refs, label) in enumerate(
            passages_of_block
        ):
            page = None
            if parsed.pages:
                # A paged document's offsets run through its pages' texts end to end.
                page = bisect.bisect_right(parsed.pages, start) - 1
                start, end = start - parsed.pages[page], end - parsed.pages[page]
                page += 1
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
                    page,
                    opens=number == 0,
                )
            )
    return Document(doc_id, parsed.title, name, parsed.sections, passages)


def _block_passages(block: Block):
    if block.kind == "prose":
        for sentence in split_sentences(block.text):
            start, end = _source_span(block, sentence.start, sentence.end)
            yield "prose", block.section, sentence.text, start, end, sentence.references, None
        return
    text = strip_citations(block.text)
    if text:
        refs = tuple(int(n) for n in CITATION.findall(block.text))
        yield block.kind, block.section, text, block.start, block.end, refs, block.label


def _source_span(block: Block, start: int, end: int) -> tuple[int, int]:
    """Where a part of a block's text came from in its file."""
    if block.origin is None:
        return block.start + start, block.start + end
    return block.origin[start], block.origin[end - 1] + 1


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
