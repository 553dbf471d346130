"""Versions of an index: which segments it is made of, which of their documents are deleted, and
the statistics of its live passages, in a checked manifest (no pickle).

The index folder holds `segments/` (qa.index.segments), versions `v-<UTC time>-<pid>/` and a
symbolic link, `current`, naming the version in use. A version's folder holds its manifest and
the aliases its live passages define; its arrays are its segments', memory-mapped, so a saved
index is ready at once and the processes that load it share one copy in the page cache. A new
version is written in a staging folder, synced to disk (files, then folder), renamed to its
version name, and made current by replacing the link in one atomic step, so a reader always
finds a whole index: the old one or the new one, and a power loss cannot leave a current version
that fails its checksums. Files are never changed in place; a version stays on disk while it is
current, the one before it, or loaded by any process (each loader holds a shared lock on its
manifest), and a segment while a kept version names it or a process maps it.

One process writes at a time: a writer holds an exclusive lock on the index folder (`writing`),
which readers never take.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import shutil
import sys
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from qa.index import disk, segments, shards
from qa.index.bm25 import BM25Index, Stats
from qa.index.disk import IndexUnusable
from qa.index.segments import Segment
from qa.ingest.corpus import Corpus, Skipped
from qa.ingest.passages import JoinedTable
from qa.text import aliases

# Bump when the analyzer, parser or file layout changes: an index of another format is rebuilt.
FORMAT = 13
MANIFEST = "manifest.json"
# The aliases the live passages define (how they spell their words is in the segments' lexicons).
ALIASES = "aliases.json"
POINTER = "current"
# Who holds the writer's lock (see writing); there only while someone does.
WRITER = ".writer"
WAIT_STEP = 0.05
MAX_COMMAND = 200
VERSION = "v-"
# Versions kept whether or not a process uses them: the current one and the one before it.
KEEP = 2
# Files an index saved before segments kept at the top of the folder.
OLD_FILES = ("corpus.json", "aliases.json", "manifest.json")

__all__ = ["IndexBusy", "IndexUnusable", "FileRecord", "Plan", "Saved", "writing", "commit"]


class IndexBusy(Exception):
    """Another process is writing the index, and waiting for it ran out; the message says who."""


@contextmanager
def writing(
    folder: Path, wait: float | None = None, waiting: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Holds the one writer's lock of an index folder, waiting for the writer before, if any.

    `wait` bounds the wait in seconds (None: as long as it takes); `waiting` is told once, in a
    sentence naming the process that holds the lock, when there is one to wait for.
    """
    folder.mkdir(parents=True, exist_ok=True)
    lock = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if not _locked(lock, 0.0):
            holder = _holder(folder)
            if waiting is not None:
                waiting(f"Waiting for {holder} to finish writing the index at {folder}")
            if not _locked(lock, wait):
                raise IndexBusy(
                    f"the index at {folder} is being written by {holder}; "
                    f"gave up after {wait:g} s (--wait)"
                )
        try:
            (folder / WRITER).write_text(_holder_record(), "utf-8")
            yield
        finally:
            (folder / WRITER).unlink(missing_ok=True)
    finally:
        os.close(lock)  # which releases the lock


def _locked(lock: int, wait: float | None) -> bool:
    """Whether the exclusive lock was taken within `wait` seconds (None: waits for it)."""
    if wait is None:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return True
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(WAIT_STEP, max(0.0, deadline - time.monotonic())))


def _holder_record() -> str:
    command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:MAX_COMMAND]
    since = f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"
    return json.dumps({"pid": os.getpid(), "command": command, "since": since})


def _holder(folder: Path) -> str:
    """Who holds the writer's lock, as its record says: `process 42 (qa index, since …)`."""
    try:
        record = json.loads((folder / WRITER).read_text("utf-8"))
        return f"process {int(record['pid'])} ({record['command']}, since {record['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"  # it has the lock but has not said who it is yet


@dataclasses.dataclass(frozen=True)
class FileRecord:
    """A corpus file as the index last read it: its size, modification time and content digest."""

    size: int
    mtime_ns: int
    digest: str


@dataclasses.dataclass
class Plan:
    """What a version holds: its segments, the documents deleted from each (by number), the
    files it read and those it could not use, the statistics of its live passages, and how many
    shards it is split into (qa.index.shards) with the shard of each segment."""

    params: list[float]
    segments: list[str]
    deleted: list[set[int]]
    files: dict[str, FileRecord]
    skipped: list[Skipped]
    unsupported: list[Skipped]
    stats: Stats | None = None
    shards: int = 1
    segment_shards: list[int] = dataclasses.field(default_factory=list)

    def shard(self, i: int) -> int:
        """The shard of the i-th segment."""
        return self.segment_shards[i] if self.segment_shards else 0

    def as_json(self) -> dict:
        return {
            "format": FORMAT,
            "params": self.params,
            "shards": self.shards,
            "segments": [
                {"name": name, "deleted": sorted(gone), "shard": self.shard(i)}
                for i, (name, gone) in enumerate(zip(self.segments, self.deleted, strict=True))
            ],
            "stats": dataclasses.asdict(self.stats) if self.stats else None,
            "files": {name: [r.size, r.mtime_ns, r.digest] for name, r in self.files.items()},
            "skipped": [dataclasses.asdict(s) for s in self.skipped],
            "unsupported": [dataclasses.asdict(s) for s in self.unsupported],
        }

    @classmethod
    def of_json(cls, manifest: dict) -> Plan:
        entries = manifest["segments"]
        return cls(
            [float(p) for p in manifest["params"]],
            [str(e["name"]) for e in entries],
            [{int(n) for n in e["deleted"]} for e in entries],
            {name: _record(r) for name, r in manifest["files"].items()},
            [Skipped(**s) for s in manifest["skipped"]],
            [Skipped(**s) for s in manifest["unsupported"]],
            Stats(**manifest["stats"]),
            _shards(manifest["shards"]),
            [_shard(e["shard"], manifest["shards"]) for e in entries],
        )


def _shards(count: object) -> int:
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"not a number of shards: {count!r}")
    return count


def _shard(shard: object, count: int) -> int:
    if not isinstance(shard, int) or not 0 <= shard < count:
        raise ValueError(f"not a shard of {count}: {shard!r}")
    return shard


def _record(fields: list) -> FileRecord:
    size, mtime_ns, digest = fields
    if not (isinstance(size, int) and isinstance(mtime_ns, int) and isinstance(digest, str)):
        raise TypeError(f"not a file record: {fields!r}")
    return FileRecord(size, mtime_ns, digest)


@dataclasses.dataclass(frozen=True)
class Saved:
    """A loaded version of the index: its live corpus, its index, its folder and its plan."""

    corpus: Corpus
    index: BM25Index
    folder: Path
    plan: Plan
    segments: list[Segment]


def commit(folder: Path, plan: Plan, parts: Sequence[Segment]) -> Path:
    """Writes a new version of the segments `parts` as `plan` says, and makes it current.

    The statistics of its live passages and the aliases they define are made here. A crash at
    any moment leaves the current version as it was.
    """
    lives = [part.live(gone) for part, gone in zip(parts, plan.deleted, strict=True)]
    plan.stats = Stats.of([part.postings for part in parts], lives)
    staging = folder / f"{disk.STAGING}{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)  # left by a process of the same id that died
    staging.mkdir(parents=True)
    try:
        defined = aliases.as_json(aliases.mine(_definitions(parts, lives)))
        (staging / ALIASES).write_text(json.dumps(defined, ensure_ascii=False), "utf-8")
        manifest = plan.as_json() | {"checksums": disk.checksums(staging, [ALIASES])}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1), "utf-8")
        disk.sync_files(staging)
        version = staging.rename(folder / f"{VERSION}{disk.stamp()}")
        disk.sync(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _point(folder, version.name)
    disk.sync(folder)
    _prune(folder)
    return version


def _definitions(parts: Sequence[Segment], lives: list) -> Iterator[tuple[str, str]]:
    """(id, text) of every live passage that may define an alias, in the corpus's order (see
    qa.index.shards.tie_order), however its documents are split into segments and shards."""
    found = []
    for part, live in zip(parts, lives, strict=True):
        starts = part.table.doc_starts
        for row in part.definitions.tolist():
            if live is None or live[row]:
                document = int(np.searchsorted(starts, row, "right")) - 1
                path = part.documents[document].path
                found.append((shards.listing_key(path), row - int(starts[document]), part, row))
    for *_, part, row in sorted(found, key=lambda f: f[:2]):
        passage = part.table[row]
        yield passage.id, passage.text


def current(folder: Path) -> Path | None:
    """The current version's folder, or None when no index was saved in `folder`."""
    try:
        return folder / os.readlink(folder / POINTER)
    except OSError:
        return None


def load(folder: Path) -> Saved:
    """The current version; IndexUnusable when there is none or it is damaged."""
    version = current(folder)
    if version is None:
        raise IndexUnusable("no saved index")
    return load_version(version)


def load_version(version: Path) -> Saved:
    """The index saved in a version folder; locked so that no one removes it."""
    lock = disk.shared_lock(version / MANIFEST, MANIFEST)
    try:
        saved = _load(version)
    except BaseException:
        os.close(lock)
        raise
    # The lock lasts while the index does: its segments are those the version names.
    weakref.finalize(saved.index, os.close, lock)
    return saved


def read_plan(version: Path, manifest: dict | None = None) -> Plan:
    """The plan of a saved version (whose manifest may have been read already); IndexUnusable
    when its manifest is missing or damaged."""
    manifest = manifest or read_manifest(version)
    try:
        return Plan.of_json(manifest)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise IndexUnusable(f"damaged manifest ({exc})") from exc


def check(version: Path, plan: Plan) -> list[Segment]:
    """The version's segments, loaded (once per process) and checked, after its own files;
    IndexUnusable names the first file that fails its checks."""
    verify_version(version)
    return open_segments(version.parent, plan)


def open_segments(index_dir: Path, plan: Plan) -> list[Segment]:
    """The plan's segments, loaded (once per process) and checked."""
    return [segments.load(index_dir, name) for name in plan.segments]


def verify_version(version: Path, manifest: dict | None = None) -> None:
    """IndexUnusable unless the version's own files (not its segments') pass their checks."""
    checksums = (manifest or read_manifest(version)).get("checksums")
    disk.verify(version, checksums, f"version {version.name}", [ALIASES])


def _load(version: Path) -> Saved:
    manifest = read_manifest(version)
    plan = read_plan(version, manifest)
    verify_version(version, manifest)
    parts = open_segments(version.parent, plan)
    for part, gone in zip(parts, plan.deleted, strict=True):
        if any(not 0 <= n < len(part.documents) for n in gone):
            raise IndexUnusable(f"version {version.name}: deletions outside segment {part.name}")
    lives = [part.live(gone) for part, gone in zip(parts, plan.deleted, strict=True)]
    index = BM25Index(*plan.params).of_segments([p.postings for p in parts], lives, plan.stats)
    table = parts[0].table if len(parts) == 1 else JoinedTable([p.table for p in parts])
    paths = [d.path for p in parts for d in p.documents]
    index.tie_order = shards.tie_order(paths, table.doc_starts)
    documents, titles = [], []
    for part, gone in zip(parts, plan.deleted, strict=True):
        for number, document in enumerate(part.documents):
            if number not in gone:
                # The segment's own documents view its own table: these view the version's.
                view = table.document(len(titles))
                documents.append(dataclasses.replace(document, passages=view))
            titles.append(document.title)
    corpus = Corpus(documents, plan.skipped, table, unsupported=plan.unsupported, titles=titles)
    return Saved(corpus, index, version, plan, parts)


def _point(folder: Path, name: str) -> None:
    """Makes version `name` current: a new link renamed over the old one, in one step."""
    link = folder / f".{POINTER}-{os.getpid()}"
    link.unlink(missing_ok=True)
    os.symlink(name, link)
    os.replace(link, folder / POINTER)


def _prune(folder: Path) -> None:
    """Removes the versions and segments no one needs, and what processes that died left."""
    pointed = current(folder)
    versions = sorted(p for p in folder.glob(f"{VERSION}*") if p.is_dir())
    keep = {pointed, *versions[-KEEP:]}
    needed: set[str] = set()
    for version in versions:
        if version not in keep and not disk.in_use(version / MANIFEST):
            shutil.rmtree(version, ignore_errors=True)
            continue
        try:
            needed.update(read_plan(version).segments)
        except IndexUnusable:
            continue
    segments.prune(folder, needed)
    for staging in disk.staged_by_dead(folder):
        shutil.rmtree(staging, ignore_errors=True)
    # Indexes saved before versions kept their files at the top of the folder.
    for path in folder.glob("*.npy"):
        path.unlink(missing_ok=True)
    for name in OLD_FILES:
        (folder / name).unlink(missing_ok=True)


def read_aliases(folder: Path) -> object:
    """The ALIASES of a loaded (so checked) index."""
    return json.loads((folder / ALIASES).read_text("utf-8"))


def read_manifest(folder: Path) -> dict:
    """A version's manifest, parsed; IndexUnusable when it is missing, damaged or of another
    format."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    except FileNotFoundError as exc:
        raise IndexUnusable("no saved index") from exc
    except (OSError, ValueError) as exc:
        raise IndexUnusable(f"unreadable manifest ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexUnusable("index of another format")
    return manifest
