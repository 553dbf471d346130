"""Building the index of a folder: read, split, analyze and count on every CPU, then save.

Large folders are read on every CPU: files go to worker processes in chunks of about a megabyte,
which parse, split, analyze and pack their passages into compact arrays for the parent to join
(or Ray actors on a cluster's nodes do, qa.index.remote).
The counts become a segment of the index (qa.index.writer).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from qa.common.codes import Coder, Tally, Total
from qa.common.forks import can_fork
from qa.index.counting import JoinedCounts, TermCounter, TermCounts
from qa.ingest.corpus import (
    Corpus,
    Document,
    Skipped,
    content_digest,
    fingerprint_of,
    listing,
    read_bytes,
    read_document,
    unique_id,
    unsupported,
)
from qa.ingest.passages import Passage, PassageTable
from qa.settings import cpus
from qa.text.analyze import Analyzer, tokens
from qa.text.spelling import words_in, written_words

CHUNK_BYTES = 1 << 20
# Below two chunks of text there is nothing to share between processes.
PARALLEL_BYTES = 2 * CHUNK_BYTES

# The tokens that a passage of a document with the given title is indexed by, each made a term by
# Analyzer.token_terms (see indexed_tokens).
TokensOf = Callable[[Passage, str], list[str]]


def read_corpus(folder: Path, workers: int | None = None) -> Corpus:
    """Every usable document of the folder; the others are listed in `skipped` with a reason."""
    return read_and_count(folder, None, workers)[0]


def read_and_count(
    folder: Path,
    tokens_of: TokensOf | None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    only: Sequence[Path] | None = None,
    taken: Collection[str] = (),
    ids: Mapping[str, str] | None = None,
    readers: Readers | None = None,
) -> tuple[Corpus, TermCounts]:
    """The corpus, and the terms of every passage's tokens as `tokens_of` gives them (none when
    it is None).

    `progress` is told (files read, files in all) as reading goes on. `only` reads those files
    of the folder, not all; their documents' ids are none of `taken`, and a file named in `ids`
    keeps the id given there when it is free. The corpus's `digests` holds the digest of each
    file's content as read, by its name in the folder.

    `workers` processes share the work (default: one per CPU when the corpus is large enough to
    gain from it); the result is the same for any number. `readers`, when given, reads the
    chunks instead (qa.index.remote: on a Ray cluster's nodes), to the same result. The corpus's
    fingerprint is that of the bytes read, so it says what the index holds even when a file
    changed meanwhile.
    """
    files, others = listing(folder) if only is None else (list(only), [])
    chunks = _chunks(files)
    tasks = [ChunkTask(folder, paths, tokens_of) for paths in chunks]
    read = readers or (lambda tasks: _read_chunks(tasks, _worker_count(chunks, workers)))
    documents: list[Document] = []
    skipped: list[Skipped] = []
    tables: list[PassageTable] = []
    # Joined as the chunks come, while the workers read on.
    counts, words = JoinedCounts(), Total()
    digests: list[bytes] = []
    used_ids: set[str] = set(taken)
    ids = ids or {}
    done = 0
    for paths, chunk in zip(chunks, read(tasks), strict=True):
        done += len(paths)
        if progress:
            progress(done, len(files))
        digests += chunk.digests
        for entry in chunk.entries:
            if isinstance(entry, Skipped):
                skipped.append(entry)
                continue
            kept = ids.get(entry.path)
            entry.id = kept if kept and kept not in used_ids else unique_id(entry.id, used_ids)
            used_ids.add(entry.id)
            documents.append(entry)
        tables.append(chunk.table)
        counts.add(chunk.counts)
        words.add(chunk.words)
    table = PassageTable.concat(tables, [d.id for d in documents])
    for number, document in enumerate(documents):
        document.passages = table.document(number)
    digest = fingerprint_of(folder, files, digests, others)
    written = words.counter()
    written.update(written_words(d.title for d in documents))
    corpus = Corpus(documents, skipped, table, digest, written, unsupported(folder, others))
    corpus.digests = {
        path.relative_to(folder).as_posix(): d for path, d in zip(files, digests, strict=True)
    }
    return corpus, counts.counts()


@dataclass
class Chunk:
    """What a reader gives back for some files, in file order.

    Each file is a document (without its passages) or the reason it was skipped, and the digest
    of the content read (see fingerprint); the documents' passages, term counts and written words
    come in compact arrays, which pass between processes cheaply.
    """

    entries: list[Document | Skipped]
    digests: list[bytes]
    table: PassageTable
    counts: TermCounts
    words: Tally


@dataclass(frozen=True)
class ChunkTask:
    """Files of a folder to read as one chunk, and how their passages' tokens are found."""

    folder: Path
    paths: list[Path]
    tokens_of: TokensOf | None

    def contents(self) -> list[bytes | OSError]:
        """The files' bytes (or what kept each from being read), read here."""
        return [read_bytes(path) for path in self.paths]


# Reads chunks, giving them back in the order of their tasks, each as read_chunk reads it.
Readers = Callable[[list[ChunkTask]], Iterator[Chunk]]


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
class Reader:
    """What a process reads its chunks with, from chunk to chunk: the counter of its terms,
    which remembers each token's term, and the coder that numbers its words (qa.common.codes)."""

    terms: TermCounter = field(default_factory=lambda: TermCounter(Analyzer().token_terms))
    words: Coder = field(default_factory=Coder)


def _read_chunks(tasks: list[ChunkTask], workers: int) -> Iterator[Chunk]:
    """The chunks read, in order: here, or by forked worker processes."""
    if workers <= 1:
        reader = Reader()
        for task in tasks:
            yield read_chunk(task, task.contents(), reader)
        return
    with multiprocessing.get_context("fork").Pool(min(workers, len(tasks))) as pool:
        # One task at a time, so that each worker reads its chunks in order (see qa.common.codes).
        yield from pool.imap(_read_chunk_in_worker, tasks, chunksize=1)


@cache
def _worker_reader(pid: int) -> Reader:
    """The reader of worker process `pid`; keyed by the pid, it is never a forked parent's."""
    return Reader()


def _read_chunk_in_worker(task: ChunkTask) -> Chunk:
    return read_chunk(task, task.contents(), _worker_reader(os.getpid()))


def read_chunk(task: ChunkTask, contents: list[bytes | OSError], reader: Reader) -> Chunk:
    """The chunk of the task's files, given their contents: parsed, split, analyzed and counted.

    A reader's chunks must be joined in the order it read them (qa.common.codes).
    """
    entries: list[Document | Skipped] = []
    digests: list[bytes] = []
    documents: list[Document] = []
    for path, content in zip(task.paths, contents, strict=True):
        digests.append(content_digest(content))
        entry = read_document(task.folder, path, content)
        if isinstance(entry, Document):
            documents.append(entry)
            entry = Document(entry.id, entry.title, entry.path, entry.sections)
        entries.append(entry)
    passages = [(p, d.title) for d in documents for p in d.passages]
    tokens = (task.tokens_of(p, title) for p, title in passages) if task.tokens_of else ()
    # A line per passage, so that no word spans two.
    words = words_in("\n".join(p.text for p, _ in passages))
    return Chunk(
        entries,
        digests,
        PassageTable.from_documents(documents),
        reader.terms.counts(tokens),
        Tally.of(words, reader.words),
    )


class IndexNotSaved(Exception):
    """The index has to be built but cannot be saved; the message says why, in one line."""

    @classmethod
    def of(cls, index_dir: Path, why: str, error: OSError) -> IndexNotSaved:
        return cls(f"the index at {index_dir} has to be built ({why}) but cannot be saved: {error}")


def indexed_tokens(passage: Passage, title: str) -> list[str]:
    """A passage's tokens; an infobox field also carries its document's title, its subject."""
    found = tokens(passage.text)
    if passage.kind == "infobox":
        found += tokens(title)
    return found
