"""Reading a folder of documents into passages, reporting every file that cannot be used.

Large folders are read on every CPU: files go to worker processes in chunks of about a megabyte,
which parse, split, analyze and pack their passages into compact arrays for the parent to join.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from itertools import chain
from pathlib import Path

from qa.analyze import Analyzer
from qa.codes import Coder, Tally, Total
from qa.forks import can_fork
from qa.index import JoinedCounts, TermCounter, TermCounts
from qa.parse import Block, parse_document
from qa.passages import Passage, PassageTable
from qa.sentences import CITATION, split_sentences, strip_citations
from qa.spelling import words_in, written_words

TEXT_SUFFIXES = {".txt", ".md"}
CHUNK_BYTES = 1 << 20
# Below two chunks of text there is nothing to share between processes.
PARALLEL_BYTES = 2 * CHUNK_BYTES

# The tokens that a passage of a document with the given title is indexed by, each made a term by
# Analyzer.token_terms (see engine.indexed_tokens).
TokensOf = Callable[[Passage, str], list[str]]


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
        return _fingerprint_of(folder, files, digests)


def _digests(files: list[Path]) -> list[bytes]:
    return [_digest(_read_bytes(path)) for path in files]


def _fingerprint_of(folder: Path, files: Iterable[Path], digests: Iterable[bytes]) -> str:
    """The fingerprint of the listed files, given the digest of each one's content."""
    digest = hashlib.blake2b(digest_size=16)
    for path, content in zip(files, digests, strict=True):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(content)
    return digest.hexdigest()


def _read_bytes(path: Path) -> bytes | OSError:
    """The file's content, or what kept it from being read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        return exc


def _digest(content: bytes | OSError) -> bytes:
    if isinstance(content, OSError):
        return type(content).__name__.encode()
    return hashlib.blake2b(content, digest_size=16).digest()


def cpus() -> int:
    """The CPUs this process may run on (a container's cpuset), not every CPU of the host."""
    return len(os.sched_getaffinity(0))


def read_corpus(folder: Path, workers: int | None = None) -> Corpus:
    """Every usable document of the folder; the others are listed in `skipped` with a reason."""
    return read_and_count(folder, None, workers)[0]


def read_and_count(
    folder: Path,
    tokens_of: TokensOf | None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Corpus, TermCounts]:
    """The corpus, and the terms of every passage's tokens as `tokens_of` gives them (none when
    it is None).

    `progress` is told (files read, files in all) as reading goes on.

    `workers` processes share the work (default: one per CPU when the corpus is large enough to
    gain from it); the result is the same for any number. The corpus's fingerprint is that of
    the bytes read, so it says what the index holds even when a file changed meanwhile.
    """
    files = corpus_files(folder)
    chunks = _chunks(files)
    tasks = [(folder, paths, tokens_of) for paths in chunks]
    documents: list[Document] = []
    skipped: list[Skipped] = []
    tables: list[PassageTable] = []
    # Joined as the chunks come, while the workers read on.
    counts, words = JoinedCounts(), Total()
    digests: list[bytes] = []
    used_ids: set[str] = set()
    done = 0
    for paths, chunk in zip(
        chunks, _read_chunks(tasks, _worker_count(chunks, workers)), strict=True
    ):
        done += len(paths)
        if progress:
            progress(done, len(files))
        digests += chunk.digests
        for entry in chunk.entries:
            if isinstance(entry, Skipped):
                skipped.append(entry)
                continue
            entry.id = unique_id(entry.id, used_ids)
            used_ids.add(entry.id)
            documents.append(entry)
        tables.append(chunk.table)
        counts.add(chunk.counts)
        words.add(chunk.words)
    table = PassageTable.concat(tables, [d.id for d in documents])
    for number, document in enumerate(documents):
        document.passages = table.document(number)
    digest = _fingerprint_of(folder, files, digests)
    written = words.counter()
    written.update(written_words(d.title for d in documents))
    return Corpus(documents, skipped, table, digest, written), counts.counts()


@dataclass
class _Chunk:
    """What a worker gives back for some files, in file order.

    Each file is a document (without its passages) or the reason it was skipped, and the digest
    of the content read (see fingerprint); the documents' passages, term counts and written words
    come in compact arrays, which pass between processes cheaply.
    """

    entries: list[Document | Skipped]
    digests: list[bytes]
    table: PassageTable
    counts: TermCounts
    words: Tally


Task = tuple[Path, list[Path], TokensOf | None]


def _chunks(files: list[Path]) -> list[list[Path]]:
    """Consecutive files in groups of about CHUNK_BYTES."""
    chunks: list[list[Path]] = []
    size = CHUNK_BYTES
    for path in files:
        if size >= CHUNK_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(path)
        size += _size(path)
    return chunks


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reading it will say what is wrong


def _worker_count(chunks: list[list[Path]], requested: int | None) -> int:
    if not can_fork() or len(chunks) < 2:
        return 1
    if requested is not None:
        return requested
    if sum(_size(p) for paths in chunks for p in paths) < PARALLEL_BYTES:
        return 1
    return cpus()


@dataclass
class _Reader:
    """What a process reads its chunks with, from chunk to chunk: the counter of its terms,
    which remembers each token's term, and the coder that numbers its words (see qa.codes)."""

    terms: TermCounter = field(default_factory=lambda: TermCounter(Analyzer().token_terms))
    words: Coder = field(default_factory=Coder)


def _read_chunks(tasks: list[Task], workers: int) -> Iterator[_Chunk]:
    """The chunks read, in order: here, or by forked worker processes."""
    if workers <= 1:
        reader = _Reader()
        for task in tasks:
            yield _read_chunk(task, reader)
        return
    with multiprocessing.get_context("fork").Pool(min(workers, len(tasks))) as pool:
        # One task at a time, so that each worker reads its chunks in order (see qa.codes).
        yield from pool.imap(_read_chunk_in_worker, tasks, chunksize=1)


@cache
def _worker_reader(pid: int) -> _Reader:
    """The reader of worker process `pid`; keyed by the pid, it is never a forked parent's."""
    return _Reader()


def _read_chunk_in_worker(task: Task) -> _Chunk:
    return _read_chunk(task, _worker_reader(os.getpid()))


def _read_chunk(task: Task, reader: _Reader) -> _Chunk:
    folder, paths, tokens_of = task
    entries: list[Document | Skipped] = []
    digests: list[bytes] = []
    documents: list[Document] = []
    for path in paths:
        content = _read_bytes(path)
        digests.append(_digest(content))
        entry = _read_document(folder, path, content)
        if isinstance(entry, Document):
            documents.append(entry)
            entry = Document(entry.id, entry.title, entry.path, entry.sections)
        entries.append(entry)
    passages = [(p, d.title) for d in documents for p in d.passages]
    tokens = (tokens_of(p, title) for p, title in passages) if tokens_of else ()
    # A line per passage, so that no word spans two.
    words = words_in("\n".join(p.text for p, _ in passages))
    return _Chunk(
        entries,
        digests,
        PassageTable.from_documents(documents),
        reader.terms.counts(tokens),
        Tally.of(words, reader.words),
    )


def _read_document(folder: Path, path: Path, content: bytes | OSError) -> Document | Skipped:
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
