"""What the index's files need of the disk: checksums, syncing, staging, and shared locks."""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from qa.settings import cpus

STAGING = ".staging-"


class IndexUnusable(Exception):
    """The saved index is missing, stale, damaged or of another format."""


def stamp() -> str:
    """Unique, and in the order of making when sorted: the time to the microsecond, the pid."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{os.getpid()}"


def sync_files(folder: Path) -> None:
    """Every file of a staged folder on disk, then the folder that names them."""
    for path in folder.iterdir():
        sync(path)
    sync(folder)


def sync(path: Path) -> None:
    """A file's data, or a folder's entries, on disk (fsync)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def checksums(
    folder: Path, names: list[str], sha256: Callable[[Path], str | None] | None = None
) -> dict[str, str | None]:
    """Each named file's checksum, by `sha256`."""
    # Hashing releases the GIL: threads sum the files on every CPU at once.
    with ThreadPoolExecutor(cpus()) as pool:
        found = pool.map(sha256 or sha256_of, [folder / name for name in names])
        return dict(zip(names, found, strict=True))


def verify(folder: Path, expected: object, what: str, required: Collection[str]) -> None:
    """Every `required` file is listed in `expected` and is in the folder with that checksum;
    IndexUnusable names the first that is not (`what` says whose files they are)."""
    if not isinstance(expected, dict) or set(expected) != set(required):
        raise IndexUnusable(f"the manifest of {what} does not list its files")
    actual = checksums(folder, list(expected), _sha256_if_readable)
    for name, checksum in expected.items():
        if actual[name] is None:
            raise IndexUnusable(f"{what}: {name} is missing or unreadable")
        if actual[name] != checksum:
            raise IndexUnusable(f"{what}: {name} is damaged (checksum mismatch)")


def _sha256_if_readable(path: Path) -> str | None:
    try:
        return sha256_of(path)
    except OSError:
        return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def shared_lock(path: Path, what: str) -> int:
    """A shared lock on a file, held by every process that maps the files beside it."""
    try:
        lock = os.open(path, os.O_RDONLY)
    except FileNotFoundError as exc:
        raise IndexUnusable(f"no saved index ({what} is missing)") from exc
    except OSError as exc:
        raise IndexUnusable(f"unreadable {what} ({exc})") from exc
    fcntl.flock(lock, fcntl.LOCK_SH)
    return lock


def in_use(path: Path) -> bool:
    """Whether a process holds a shared lock on the file, so maps what is beside it."""
    try:
        lock = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(lock)
    return False


def alive(pid: str) -> bool:
    """Whether the process of a staging folder's name still runs (and may still be writing)."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (ValueError, PermissionError):  # not one of ours, or another user's live process
        return True
    return True


def staged_by_dead(folder: Path) -> list[Path]:
    """The staging folders in `folder` of processes that died while writing them."""
    return [p for p in folder.glob(f"{STAGING}*") if not alive(p.name.removeprefix(STAGING))]
