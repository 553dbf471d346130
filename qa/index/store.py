"""Saving and loading a built index: versions of plain files with a checked manifest (no pickle).

The arrays (BM25 weights, vocabulary, passages) are .npy files that load memory-mapped, so a
saved index is ready at once and the processes that load it share one copy in the page cache.

The index folder holds versions, `v-<UTC time>-<pid>/`, and a symbolic link, `current`, naming
the one in use. A new version is written in a staging folder, checked, renamed to its version
name, and made current by replacing the link in one atomic step, so a reader always finds a
whole index: the old one or the new one. Files are never changed in place, and a version stays
on disk while it is current, the one before it, or loaded by any process (each loader holds a
shared lock on its manifest), so a process still mapping an older version keeps reading it whole.

A new version's files, then its folder, are synced to disk before `current` names it, so a power
loss cannot leave a current version that fails its checksums. One process writes at a time: a
writer holds an exclusive lock on the index folder (`writing`), which readers never take.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from qa.index import bm25
from qa.index.bm25 import BM25Index
from qa.ingest import passages
from qa.ingest.corpus import Corpus, Document, Skipped
from qa.ingest.passages import PassageTable
from qa.settings import cpus
from qa.text import spelling

# Bump when the analyzer, parser or file layout changes: an index of another format is rebuilt.
FORMAT = 10
MANIFEST = "manifest.json"
CORPUS = "corpus.json"
# The aliases the corpus defines (how it spells its words is in the lexicon's arrays).
ALIASES = "aliases.json"
FILES = (
    [f"{bm25.PREFIX}{name}.npy" for name in bm25.ARRAYS]
    + [f"{passages.PREFIX}{name}.npy" for name in passages.COLUMNS]
    + [f"{spelling.PREFIX}{name}.npy" for name in spelling.ARRAYS]
    + [CORPUS, ALIASES]
)
POINTER = "current"
# Who holds the writer's lock (see writing); there only while someone does.
WRITER = ".writer"
WAIT_STEP = 0.05
MAX_COMMAND = 200
VERSION = "v-"
STAGING = ".staging-"
# Versions kept whether or not a process uses them: the current one and the one before it.
KEEP = 2


class IndexUnusable(Exception):
    """The saved index is missing, stale, damaged or of another format."""


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
class Saved:
    """A loaded version of the index, and the folder its files are mapped from."""

    corpus: Corpus
    index: BM25Index
    folder: Path


@dataclasses.dataclass(frozen=True)
class Words:
    """What the corpus says of its own words: the aliases it defines (JSON), how it spells."""

    aliases: object
    lexicon: spelling.Lexicon


def save(folder: Path, corpus: Corpus, index: BM25Index, words: Callable[[], Words]) -> Path:
    """Writes a new version of the index, checks it and makes it current; returns its folder.

    `words` is called once the index and the passages are written: a build makes the words
    meanwhile, in another process. The corpus's fingerprint goes in the manifest. A crash at
    any moment leaves the current version as it was.
    """
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f"{STAGING}{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)  # left by a process of the same id that died
    staging.mkdir()
    try:
        _write(staging, corpus, index, words)
        _verify(staging, _manifest(staging)["checksums"])
        _sync_files(staging)
        version = staging.rename(folder / _version_name())
        _sync(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _point(folder, version.name)
    _sync(folder)
    _prune(folder)
    return version


def current(folder: Path) -> Path | None:
    """The current version's folder, or None when no index was saved in `folder`."""
    try:
        return folder / os.readlink(folder / POINTER)
    except OSError:
        return None


def load(folder: Path, fingerprint: str | None) -> Saved:
    """The current version; IndexUnusable when damaged or stale (the `fingerprint` differs).

    A fingerprint of None takes the index of whatever corpus it was built from.
    """
    version = current(folder)
    if version is None:
        raise IndexUnusable("no saved index")
    return load_version(version, fingerprint)


def load_version(version: Path, fingerprint: str | None) -> Saved:
    """The index saved in a version folder (see load); locked so that no one removes it."""
    lock = _lock(version)
    try:
        corpus, index = _load(version, fingerprint)
    except BaseException:
        os.close(lock)
        raise
    # The lock lasts while the index does: its arrays map the version's files.
    weakref.finalize(index, os.close, lock)
    return Saved(corpus, index, version)


def _load(folder: Path, fingerprint: str | None) -> tuple[Corpus, BM25Index]:
    manifest = _manifest(folder)
    if fingerprint is not None and manifest.get("fingerprint") != fingerprint:
        raise IndexUnusable("the corpus has changed")
    _verify(folder, manifest.get("checksums"))
    try:
        index = BM25Index.load(folder)
        saved = json.loads((folder / CORPUS).read_text("utf-8"))
        documents = [
            Document(d["id"], d["title"], d["path"], d["sections"]) for d in saved["documents"]
        ]
        table = PassageTable.load(folder, saved["strings"], [d.id for d in documents])
        skipped = [Skipped(**s) for s in manifest.get("skipped", [])]
        others = [Skipped(**s) for s in manifest.get("unsupported", [])]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexUnusable(f"damaged index ({exc})") from exc
    if len(table) != index.size:
        raise IndexUnusable("passages and weights disagree")
    for number, document in enumerate(documents):
        document.passages = table.document(number)
    corpus = Corpus(documents, skipped, table, manifest.get("fingerprint", ""), unsupported=others)
    return corpus, index


def _write(staging: Path, corpus: Corpus, index: BM25Index, words: Callable[[], Words]) -> None:
    """The index's files, the manifest last: a folder without one is not a whole index.

    The index's and the passages' files are written and summed before `words` is called: a
    build makes the words meanwhile, in another process.
    """
    written = index.save(staging) + corpus.table.save(staging) + [_write_corpus(staging, corpus)]
    checksums = _checksums(staging, written, _sha256)
    made = words()
    (staging / ALIASES).write_text(json.dumps(made.aliases, ensure_ascii=False), "utf-8")
    checksums |= _checksums(staging, [ALIASES, *made.lexicon.save(staging)], _sha256)
    manifest = {
        "format": FORMAT,
        "fingerprint": corpus.fingerprint,
        "checksums": {name: checksums[name] for name in FILES},
        "skipped": [dataclasses.asdict(s) for s in corpus.skipped],
        "unsupported": [dataclasses.asdict(s) for s in corpus.unsupported],
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=1), "utf-8")


def _write_corpus(staging: Path, corpus: Corpus) -> str:
    """Writes the documents (without their passages) and the table's strings; returns the name."""
    documents = [
        {"id": d.id, "title": d.title, "path": d.path, "sections": d.sections}
        for d in corpus.documents
    ]
    (staging / CORPUS).write_text(
        json.dumps({"documents": documents, "strings": corpus.table.strings}, ensure_ascii=False),
        "utf-8",
    )
    return CORPUS


def _sync_files(staging: Path) -> None:
    """Every file of a staged version on disk, then the folder that names them."""
    for path in staging.iterdir():
        _sync(path)
    _sync(staging)


def _sync(path: Path) -> None:
    """A file's data, or a folder's entries, on disk (fsync)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _version_name() -> str:
    """Unique, and in the order of saving when sorted: the time to the microsecond, the pid."""
    return f"{VERSION}{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{os.getpid()}"


def _point(folder: Path, name: str) -> None:
    """Makes version `name` current: a new link renamed over the old one, in one step."""
    link = folder / f".{POINTER}-{os.getpid()}"
    link.unlink(missing_ok=True)
    os.symlink(name, link)
    os.replace(link, folder / POINTER)


def _prune(folder: Path) -> None:
    """Removes the versions no one needs, and what processes that died left behind."""
    pointed = current(folder)
    versions = sorted(p for p in folder.glob(f"{VERSION}*") if p.is_dir())
    keep = {pointed, *versions[-KEEP:]}
    for version in versions:
        if version not in keep and not _in_use(version):
            shutil.rmtree(version, ignore_errors=True)
    for staging in folder.glob(f"{STAGING}*"):
        if not _alive(staging.name.removeprefix(STAGING)):
            shutil.rmtree(staging, ignore_errors=True)
    # Indexes saved before versions kept their files at the top of the folder.
    for name in (*FILES, MANIFEST):
        (folder / name).unlink(missing_ok=True)


def _lock(version: Path) -> int:
    """A shared lock on the version's manifest, held by every process that loads it."""
    try:
        lock = os.open(version / MANIFEST, os.O_RDONLY)
    except FileNotFoundError as exc:
        raise IndexUnusable("no saved index") from exc
    except OSError as exc:
        raise IndexUnusable(f"unreadable manifest ({exc})") from exc
    fcntl.flock(lock, fcntl.LOCK_SH)
    return lock


def _in_use(version: Path) -> bool:
    """Whether a process holds the version's lock, so has it loaded."""
    try:
        lock = os.open(version / MANIFEST, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(lock)
    return False


def _alive(pid: str) -> bool:
    """Whether the process of a staging folder's name still runs (and may still be writing)."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (ValueError, PermissionError):  # not one of ours, or another user's live process
        return True
    return True


def read_aliases(folder: Path) -> object:
    """The ALIASES of a loaded (so checked) index."""
    return json.loads((folder / ALIASES).read_text("utf-8"))


def _manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    except FileNotFoundError as exc:
        raise IndexUnusable("no saved index") from exc
    except (OSError, ValueError) as exc:
        raise IndexUnusable(f"unreadable manifest ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexUnusable("index of another format")
    return manifest


def _verify(folder: Path, checksums: object) -> None:
    """Every file of the index is there and has the checksum it was saved with."""
    if not isinstance(checksums, dict) or set(checksums) != set(FILES):
        raise IndexUnusable("the manifest does not list the index's files")
    actual = _checksums(folder, FILES, _sha256_if_readable)
    for name in FILES:
        if actual[name] is None:
            raise IndexUnusable(f"{name} is missing or unreadable")
        if actual[name] != checksums[name]:
            raise IndexUnusable(f"{name} is damaged (checksum mismatch)")


def _checksums(
    folder: Path, names: list[str], sha256: Callable[[Path], str | None]
) -> dict[str, str | None]:
    """Each named file's checksum, by `sha256`."""
    # Hashing releases the GIL: threads sum the files on every CPU at once.
    with ThreadPoolExecutor(cpus()) as pool:
        return dict(zip(names, pool.map(sha256, [folder / name for name in names]), strict=True))


def _sha256_if_readable(path: Path) -> str | None:
    try:
        return _sha256(path)
    except OSError:
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
