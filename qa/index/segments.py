"""Segments: the immutable parts of an index, each the documents of some files, indexed.

A segment is a folder of `segments/` in the index folder: its postings (qa.index.bm25), its
passage table, the lexicon of its words, the rows whose text may define an alias, and
`segment.json`, which lists its documents and the checksum of every other file. Versions of the
index (qa.index.store) name the segments they are made of, so a new version writes only its new
segments. A segment is loaded once per process and shared by every version that names it.
"""

from __future__ import annotations

import json
import os
import shutil
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from qa.common import arrays
from qa.index import bm25, disk
from qa.index.bm25 import Postings
from qa.ingest import passages
from qa.ingest.corpus import Document
from qa.ingest.passages import PassageTable
from qa.text import aliases, spelling
from qa.text.spelling import Lexicon, words_in, written_words

FOLDER = "segments"
SEGMENT = "segment.json"
PREFIX = "s-"
DEFINITIONS = "definitions"
# Every file of a segment but SEGMENT, which lists their checksums.
FILES = [
    *(f"{bm25.PREFIX}{name}.npy" for name in bm25.ARRAYS),
    *(f"{passages.PREFIX}{name}.npy" for name in passages.COLUMNS),
    f"{DEFINITIONS}.npy",
    *(f"{spelling.PREFIX}{name}.npy" for name in spelling.ARRAYS),
]

# Every segment this process has loaded, by folder, while a version uses it.
_loaded: weakref.WeakValueDictionary[Path, Segment] = weakref.WeakValueDictionary()


@dataclass(eq=False)
class Segment:
    """A loaded segment: its postings, its passages and their documents."""

    name: str
    folder: Path
    postings: Postings
    table: PassageTable
    documents: list[Document]
    definitions: np.ndarray  # the rows whose text may define an alias, ascending

    @property
    def size(self) -> int:
        return len(self.table)

    @cached_property
    def lexicon(self) -> Lexicon:
        return Lexicon.load(self.folder)

    def live(self, deleted: set[int]) -> np.ndarray | None:
        """Which rows are live when these documents are deleted (None: all are)."""
        if not deleted:
            return None
        live = np.ones(self.size, bool)
        starts = self.table.doc_starts
        for document in deleted:
            live[starts[document] : starts[document + 1]] = False
        return live


def folder_of(index_dir: Path) -> Path:
    return index_dir / FOLDER


def write(
    index_dir: Path,
    postings: Postings,
    table: PassageTable,
    documents: list[Document],
    lexicon: Callable[[], Lexicon],
) -> str:
    """Writes a new segment, synced to disk, and returns its name.

    `lexicon` is called once the postings and passages are written: a build makes it meanwhile,
    in another process.
    """
    parent = folder_of(index_dir)
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f"{disk.STAGING}{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)  # left by a process of the same id that died
    staging.mkdir()
    name = PREFIX + disk.stamp()
    try:
        definitions = aliases.definition_rows(table)
        written = postings.save(staging) + table.save(staging)
        written += arrays.save(staging, {DEFINITIONS: definitions})
        written += lexicon().save(staging)
        record = {
            "documents": [
                {"id": d.id, "title": d.title, "path": d.path, "sections": d.sections}
                for d in documents
            ],
            "strings": table.strings,
            "checksums": disk.checksums(staging, written),
        }
        (staging / SEGMENT).write_text(json.dumps(record, ensure_ascii=False), "utf-8")
        disk.sync_files(staging)
        staging.rename(parent / name)
        disk.sync(parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return name


def load(index_dir: Path, name: str) -> Segment:
    """The segment of that name, loaded and checked once per process; IndexUnusable when it is
    missing or damaged (the message names the file)."""
    folder = folder_of(index_dir) / name
    found = _loaded.get(folder)
    if found is not None:
        return found
    what = f"segment {name}"
    lock = disk.shared_lock(folder / SEGMENT, f"{what}/{SEGMENT}")
    try:
        segment = _read(folder, name, what)
    except BaseException:
        os.close(lock)
        raise
    # The lock lasts while the segment does: its arrays map the segment's files.
    weakref.finalize(segment, os.close, lock)
    _loaded[folder] = segment
    return segment


def _read(folder: Path, name: str, what: str) -> Segment:
    try:
        record = json.loads((folder / SEGMENT).read_text("utf-8"))
        expected = record["checksums"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise disk.IndexUnusable(f"{what}: {SEGMENT} is damaged ({exc})") from exc
    disk.verify(folder, expected, what, FILES)
    try:
        postings = Postings.load(folder)
        documents = [
            Document(d["id"], d["title"], d["path"], d["sections"]) for d in record["documents"]
        ]
        table = PassageTable.load(folder, record["strings"], [d.id for d in documents])
        definitions = arrays.load(folder, [DEFINITIONS])[DEFINITIONS]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise disk.IndexUnusable(f"{what} is damaged ({exc})") from exc
    if len(table) != postings.size:
        raise disk.IndexUnusable(f"{what}: passages and postings disagree")
    for number, document in enumerate(documents):
        document.passages = table.document(number)
    return Segment(name, folder, postings, table, documents, definitions)


def merge(index_dir: Path, parts: list[Segment], deleted: list[set[int]]) -> str:
    """Writes the live documents of segments as one new segment; returns its name."""
    lives = [part.live(gone) for part, gone in zip(parts, deleted, strict=True)]
    kept = [
        [n for n in range(len(part.documents)) if n not in gone]
        for part, gone in zip(parts, deleted, strict=True)
    ]
    chosen = list(zip(parts, kept, strict=True))
    documents = [part.documents[n] for part, numbers in chosen for n in numbers]
    table = PassageTable.concat(
        [part.table.select(numbers) for part, numbers in chosen],
        [d.id for d in documents],
    )
    postings = Postings.merged([part.postings for part in parts], lives)
    return write(index_dir, postings, table, documents, lambda: _lexicon(table, documents))


def _lexicon(table: PassageTable, documents: list[Document]) -> Lexicon:
    """The lexicon of a table's passages and its documents' titles, as a build makes it."""
    # A line per passage, so that no word spans two.
    written = Counter(words_in("\n".join(table.text(row) for row in range(len(table)))))
    written.update(written_words(d.title for d in documents))
    return Lexicon.of_words(written)


def prune(index_dir: Path, needed: set[str]) -> None:
    """Removes the segments no kept version names and no process maps, and what writers that
    died left behind."""
    parent = folder_of(index_dir)
    if not parent.is_dir():
        return
    for folder in parent.glob(f"{PREFIX}*"):
        if folder.name not in needed and not disk.in_use(folder / SEGMENT):
            shutil.rmtree(folder, ignore_errors=True)
    for staging in disk.staged_by_dead(parent):
        shutil.rmtree(staging, ignore_errors=True)
