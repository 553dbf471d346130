"""Keeping an index in step with its files: only new and changed files are read, into a new
segment; changed and removed files' documents are deleted from theirs; small segments merge.

`update` is the one way an index is written: a first build is an update from nothing; its caller
holds the writer's lock (qa.index.store.writing). `Changes` is the library's entry point for
adding, replacing and removing documents: the upload API and `qa index` (through
qa.answer.engine.Engine.open) are its users.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from qa.common.forks import Forked
from qa.index import segments, store
from qa.index.bm25 import BM25Index, Postings
from qa.index.build import (
    PARALLEL_BYTES,
    IndexNotSaved,
    Readers,
    indexed_tokens,
    read_and_count,
)
from qa.index.disk import IndexUnusable
from qa.index.segments import Segment
from qa.index.shards import shard_of
from qa.index.store import FileRecord, Plan
from qa.ingest.corpus import (
    Corpus,
    CorpusError,
    content_digest,
    corpus_names,
    listing,
    read_bytes,
    unsupported,
)
from qa.text.spelling import Lexicon

log = logging.getLogger(__name__)

# Segments of about the same size (the same power of MERGE_FACTOR passages) merge into one when
# there are MERGE_FACTOR of them; so a passage is merged about log(N) times in all.
MERGE_FACTOR = 10
# The size and time of a file that has none (it cannot be read), or that changed as it was read:
# no file matches them, so it is compared by content next time.
UNREADABLE = (-1, -1)
# A segment more than this share deleted is rewritten without its deleted passages.
MOSTLY_DELETED = 0.5


@dataclass
class Summary:
    """What an update did to the index: files added, changed, removed and renamed, by name."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    merged: int = 0  # segments merged into others (those left with no live passage are dropped)

    def line(self) -> str:
        """`+3 ~1 -2`, and the renames, as `qa index` reports them."""
        moved = f", {len(self.renamed)} renamed" if self.renamed else ""
        return f"+{len(self.added)} ~{len(self.changed)} -{len(self.removed)}{moved}"

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.changed or self.removed or self.renamed or self.merged)


@dataclass
class Update:
    """The version that holds the folder's files, its plan and segments (loaded and checked),
    and what the update that made it did (None when the current version already held them)."""

    version: Path
    plan: Plan
    summary: Summary | None
    parts: list[Segment] = field(default_factory=list)

    def stats(self) -> dict:
        """Documents, passages and terms of the version, and the files it could not use."""
        plan = self.plan
        deleted = sum(map(len, plan.deleted))
        return {
            "documents": sum(len(p.documents) for p in self.parts) - deleted,
            "passages": plan.stats.passages,
            "terms": plan.stats.terms,
            "skipped": [
                {"file": s.file, "reason": s.reason} for s in plan.skipped + plan.unsupported
            ],
        }


@dataclass
class _Previous:
    plan: Plan
    parts: list[Segment]
    whole: bool  # whether the version's own files pass their checks


def update(
    corpus_dir: Path,
    index_dir: Path,
    why: str = "",
    progress: Callable[[int, int], None] | None = None,
    rebuild: bool = False,
    optimize: bool = False,
    shards: int | None = None,
    readers: Readers | None = None,
) -> Update:
    """Brings the index of a folder in step with its files, and returns the version that is.

    Unchanged files (same size and modification time, else the same content) are not read
    again. `rebuild` reads every file into a new index; `optimize` merges each shard's segments
    into one. `shards` splits the index into that many shards (qa.index.shards: every file is
    read again when it was split otherwise); by default it stays as it was, one for a new index.
    `why` says in IndexNotSaved's message why the index was written; `readers` reads the files
    (qa.index.build.read_and_count: by default here and in forked processes).

    Raises CorpusError when the folder would hold no usable document, IndexNotSaved when the
    index cannot be saved.
    """
    previous = None if rebuild else _previous(index_dir)
    if previous and shards and previous.plan.shards != shards:
        previous = None  # split another way: every file goes to its new shard
    count = shards or (previous.plan.shards if previous else 1)
    plan = previous.plan if previous else Plan(list(BM25Index().params()), [], [], {}, [], [])
    parts = list(previous.parts) if previous else []
    homes = [plan.shard(i) for i in range(len(parts))]
    files, others = listing(corpus_dir)
    summary, to_read, records = _compare(corpus_dir, files, plan.files)
    deleted = [set(gone) for gone in plan.deleted]
    located = {
        d.path: (i, n)
        for i, part in enumerate(parts)
        for n, d in enumerate(part.documents)
        if n not in deleted[i]
    }
    for name in summary.changed + summary.removed + [old for old, _ in summary.renamed]:
        if name in located:
            i, n = located.pop(name)
            deleted[i].add(n)
    skipped = [s for s in plan.skipped if s.file in records]
    try:
        if to_read:
            taken = {parts[i].documents[n].id for i, n in located.values()}
            kept_ids = {d.path: d.id for part in parts for d in part.documents}
            done = 0
            for shard, paths in _by_shard(corpus_dir, to_read, count).items():
                told = _told_from(progress, done, len(to_read))
                corpus, new = _read(
                    corpus_dir, index_dir, list(paths), taken, kept_ids, told, readers
                )
                done += len(paths)
                taken |= {d.id for d in corpus.documents}
                records |= _records(corpus_dir, corpus, paths)
                skipped += corpus.skipped
                if new is not None:
                    parts.append(new)
                    deleted.append(set())
                    homes.append(shard)
        if not any(len(p.documents) > len(d) for p, d in zip(parts, deleted, strict=True)):
            reasons = "; ".join(f"{s.file}: {s.reason}" for s in skipped)
            raise CorpusError(
                f"no usable document in {corpus_dir}" + (f" ({reasons})" if reasons else "")
            )
        found_unsupported = unsupported(corpus_dir, others)
        in_step = summary.unchanged and not to_read and found_unsupported == plan.unsupported
        if previous and previous.whole and in_step and not optimize:
            return Update(store.current(index_dir), plan, summary, parts)
        summary.merged = _merge_shards(index_dir, parts, deleted, homes, optimize)
        names = [p.name for p in parts]
        new_plan = Plan(
            plan.params, names, deleted, records, skipped, found_unsupported, None, count, homes
        )
        version = store.commit(index_dir, new_plan, parts)
    except OSError as exc:
        raise IndexNotSaved.of(index_dir, why or "files changed", exc) from exc
    return Update(version, new_plan, summary, parts)


def refresh(
    corpus_dir: Path,
    index_dir: Path,
    rebuild: bool = False,
    optimize: bool = False,
    progress: Callable[[int, int], None] | None = None,
    wait: float | None = None,
    waiting: Callable[[str], None] | None = None,
    why: str | None = None,
    shards: int | None = None,
    readers: Readers | None = None,
) -> Update:
    """The current version when it holds the folder's files as they are and passes its checks,
    else an update (see `update`) under the writer's lock: first waiting for any other process
    writing the index (at most `wait` seconds when given; `waiting` is told who that is).

    `why`, when given, says why the current version cannot be used; `shards`, when given, is
    how many shards the index must have and `readers` what reads its files (see `update`).
    Raises what `update`
    raises, store.IndexBusy when another writer holds the index past `wait`, and IndexNotSaved
    when the index folder cannot be locked.
    """
    if why is None and rebuild:
        why = "a rebuild was asked for"
    elif why is None and optimize:
        why = "merging its segments was asked for"
    elif why is None:
        try:
            version = store.current(index_dir)
            if version is None:
                raise IndexUnusable("no saved index")
            plan = store.read_plan(version)
            if shards and plan.shards != shards:
                raise IndexUnusable(f"it is to be split into {shards} shards")
            if is_current(corpus_dir, plan):
                # The plan says what the version holds; only a current one is checked.
                return Update(version, plan, None, store.check(version, plan))
            why = "files changed"
        except IndexUnusable as exc:
            why = str(exc)
    with ExitStack() as held:
        try:
            held.enter_context(store.writing(index_dir, wait, waiting))
        except OSError as exc:  # the folder cannot be made, or opened to lock it
            raise IndexNotSaved.of(index_dir, why, exc) from exc
        log.info("updating the index at %s: %s", index_dir, why)
        # The writer waited for may have just brought the index in step: then this reads
        # nothing and saves nothing.
        return update(corpus_dir, index_dir, why, progress, rebuild, optimize, shards, readers)


def is_current(corpus_dir: Path, plan: Plan) -> bool:
    """Whether the version of `plan` holds the folder's files as they are now."""
    files, others = listing(corpus_dir)
    summary, to_read, _ = _compare(corpus_dir, files, plan.files)
    return summary.unchanged and not to_read and unsupported(corpus_dir, others) == plan.unsupported


def _previous(index_dir: Path) -> _Previous | None:
    """The current version's plan and segments, or None when there is no usable one."""
    version = store.current(index_dir)
    if version is None:
        return None
    try:
        manifest = store.read_manifest(version)
        plan = store.read_plan(version, manifest)
        parts = store.open_segments(index_dir, plan)
    except IndexUnusable:
        return None  # the caller was told why when it tried to load it
    try:
        store.verify_version(version, manifest)
    except IndexUnusable:
        return _Previous(plan, parts, whole=False)  # its segments serve a new version
    return _Previous(plan, parts, whole=True)


def _compare(
    corpus_dir: Path, files: list[Path], known: dict[str, FileRecord]
) -> tuple[Summary, dict[Path, tuple[int, int] | None], dict[str, FileRecord]]:
    """What changed since the files were `known`: the summary, the files to read (with their
    size and time before reading), and the records of the files that stay as they were."""
    summary, to_read, records = Summary(), {}, {}
    fresh: list[tuple[str, Path]] = []
    names = corpus_names(corpus_dir, files)
    for name, path in zip(names, files, strict=True):
        record, now = known.get(name), _stat(path)
        if record is not None and now == (record.size, record.mtime_ns):
            records[name] = record
            continue
        if record is not None and _digest(path) == record.digest:
            # Touched, not changed (or as unreadable as it was): not read again.
            records[name] = FileRecord(*(now or UNREADABLE), record.digest)
            continue
        to_read[path] = now
        if record is None:
            fresh.append((name, path))
        else:
            summary.changed.append(name)
    present = set(names)
    gone = [name for name in known if name not in present]
    # A new file with the content of one gone is that one renamed (hashed only when one is gone).
    by_digest = {known[name].digest: name for name in gone}
    for name, path in fresh:
        old = by_digest.pop(_digest(path), None) if by_digest else None
        if old is None:
            summary.added.append(name)
        else:
            summary.renamed.append((old, name))
    moved = {old for old, _ in summary.renamed}
    summary.removed = [name for name in gone if name not in moved]
    return summary, to_read, records


def _digest(path: Path) -> str:
    return content_digest(read_bytes(path)).hex()


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns


def _read(
    corpus_dir: Path,
    index_dir: Path,
    paths: list[Path],
    taken: set[str],
    ids: dict[str, str],
    progress: Callable[[int, int], None] | None,
    readers: Readers | None,
) -> tuple[Corpus, Segment | None]:
    """The files read, and the new segment of their documents (None when none is usable)."""
    corpus, counts = read_and_count(
        corpus_dir,
        indexed_tokens,
        progress=progress,
        only=paths,
        taken=taken,
        ids=ids,
        readers=readers,
    )
    if not corpus.documents:
        return corpus, None
    large = len(corpus.table.columns["text"]) >= PARALLEL_BYTES
    # A large segment's lexicon is made by a child meanwhile, on the other CPU.
    lexicon = Forked(Lexicon.of_words, corpus.words) if large else None
    postings = Postings.of_counts(counts)
    made = lexicon.result if lexicon else lambda: Lexicon.of_words(corpus.words)
    name = segments.write(index_dir, postings, corpus.table, corpus.documents, made)
    return corpus, segments.load(index_dir, name)


def _records(
    corpus_dir: Path, corpus: Corpus, before: dict[Path, tuple[int, int] | None]
) -> dict[str, FileRecord]:
    """The records of the files read; a file that changed while it was read gets a record that
    matches no file, so that the next update reads it again."""
    records = {}
    for name, (path, then) in zip(corpus_names(corpus_dir, before), before.items(), strict=True):
        now = _stat(path)
        if now != then:
            log.warning("%s changed while it was being indexed", name)
            now = UNREADABLE
        records[name] = FileRecord(*(now or UNREADABLE), corpus.digests[name].hex())
    return records


def _by_shard(
    corpus_dir: Path, to_read: dict[Path, tuple[int, int] | None], shards: int
) -> dict[int, dict[Path, tuple[int, int] | None]]:
    """The files to read, shard by shard (in order), each shard's in the order given."""
    grouped: dict[int, dict[Path, tuple[int, int] | None]] = {}
    for name, (path, stat) in zip(corpus_names(corpus_dir, to_read), to_read.items(), strict=True):
        grouped.setdefault(shard_of(name, shards), {})[path] = stat
    return dict(sorted(grouped.items()))


def _told_from(
    progress: Callable[[int, int], None] | None, done: int, total: int
) -> Callable[[int, int], None] | None:
    """`progress` told of files read in all, while one shard's files are read."""
    if progress is None:
        return None
    return lambda read, _: progress(done + read, total)


def _merge_shards(
    index_dir: Path,
    parts: list[Segment],
    deleted: list[set[int]],
    homes: list[int],
    everything: bool,
) -> int:
    """Merges each shard's segments among themselves (see `_merge`); the lists are changed,
    shard by shard in order; returns how many segments were merged away."""
    grouped: dict[int, list[int]] = {}
    for i, home in enumerate(homes):
        grouped.setdefault(home, []).append(i)
    merged, kept = 0, ([], [], [])
    for home, members in sorted(grouped.items()):
        own, gone = [parts[i] for i in members], [deleted[i] for i in members]
        merged += _merge(index_dir, own, gone, everything)
        kept[0].extend(own)
        kept[1].extend(gone)
        kept[2].extend([home] * len(own))
    parts[:], deleted[:], homes[:] = kept
    return merged


def _merge(index_dir: Path, parts: list[Segment], deleted: list[set[int]], everything: bool) -> int:
    """Merges segments in place (the lists are changed) by the tiered rule, or all of them;
    returns how many segments were merged away."""
    merged = 0
    for i in reversed(range(len(parts))):
        if len(deleted[i]) == len(parts[i].documents):  # nothing of it is live: dropped
            del parts[i], deleted[i]
    while True:
        chosen = list(range(len(parts))) if everything else _to_merge(parts, deleted)
        if len(chosen) < 2 and not (chosen and deleted[chosen[0]]):
            return merged
        name = segments.merge(index_dir, [parts[i] for i in chosen], [deleted[i] for i in chosen])
        first = chosen[0]
        for i in reversed(chosen):
            del parts[i], deleted[i]
        parts.insert(first, segments.load(index_dir, name))
        deleted.insert(first, set())
        merged += len(chosen) - 1
        everything = False


def _to_merge(parts: list[Segment], deleted: list[set[int]]) -> list[int]:
    """The segments the tiered rule merges now: MERGE_FACTOR of one tier, or one mostly deleted."""
    tiers: dict[int, list[int]] = {}
    for i, (part, gone) in enumerate(zip(parts, deleted, strict=True)):
        live = part.live(gone)
        size = part.size if live is None else int(live.sum())
        if part.size and size < (1 - MOSTLY_DELETED) * part.size:
            return [i]
        tiers.setdefault(int(math.log(max(size, 1), MERGE_FACTOR)), []).append(i)
    for members in tiers.values():
        if len(members) >= MERGE_FACTOR:
            return members[:MERGE_FACTOR]
    return []


class Changes:
    """The library's way to change a corpus and its index: add or replace files, remove files,
    then `commit`, which writes them into the corpus folder and updates the index as one new
    version; when that fails, the folder is as it was.

        changes = Changes(corpus_dir, index_dir)
        changes.add("reports/q3.pdf", data)
        changes.remove("reports/old.txt")
        update = changes.commit()
    """

    def __init__(
        self,
        corpus_dir: Path,
        index_dir: Path,
        wait: float | None = None,
        waiting: Callable[[str], None] | None = None,
    ) -> None:
        self.corpus_dir, self.index_dir = corpus_dir, index_dir
        self.wait, self.waiting = wait, waiting
        self._add: dict[str, bytes] = {}
        self._remove: set[str] = set()

    def add(self, name: str, content: bytes) -> None:
        """Adds a file, or replaces the file of that name (a path in the corpus, "/" between
        parts; the caller has checked it)."""
        self._add[name] = content
        self._remove.discard(name)

    def remove(self, name: str) -> None:
        """Removes a file of the corpus (a path in the corpus)."""
        self._remove.add(name)
        self._add.pop(name, None)

    def commit(self) -> Update:
        """Writes the files, removes those to remove and updates the index, under the writer's
        lock; undoes the files' changes when the index cannot be updated.

        Raises what `update` raises, and store.IndexBusy when another process writes the index
        past `wait` seconds.
        """
        with store.writing(self.index_dir, self.wait, self.waiting):
            written: list[tuple[Path, Path | None]] = []
            moved: list[tuple[Path, Path]] = []
            try:
                for name, content in self._add.items():
                    written.append(_write_atomically(self.corpus_dir / name, content))
                for name in self._remove:
                    path = self.corpus_dir / name
                    # Set aside under a hidden name, which the corpus passes over, until the
                    # new version is saved: then it goes, else it comes back.
                    aside = path.with_name(f".removed-{os.getpid()}-{path.name}")
                    os.replace(path, aside)
                    moved.append((aside, path))
                done = update(self.corpus_dir, self.index_dir, "documents were changed")
            except BaseException:
                _undo(written, moved)
                raise
            for aside, _ in moved + [(old, None) for _, old in written if old]:
                aside.unlink(missing_ok=True)
            return done


def _write_atomically(path: Path, content: bytes) -> tuple[Path, Path | None]:
    """Writes a file whole or not at all (under a hidden name, synced, then renamed); returns
    it, and where the file it replaced was set aside, if any."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".partial-{os.getpid()}-{threading.get_ident()}-{path.name}")
    old = None
    try:
        with open(partial, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        if path.exists():
            old = path.with_name(f".replaced-{os.getpid()}-{path.name}")
            os.replace(path, old)
        try:
            os.replace(partial, path)
        except OSError:
            if old is not None:
                os.replace(old, path)
            raise
    finally:
        partial.unlink(missing_ok=True)
    return path, old


def _undo(written: list[tuple[Path, Path | None]], moved: list[tuple[Path, Path]]) -> None:
    for path, old in written:
        if old is None:
            path.unlink(missing_ok=True)
        else:
            os.replace(old, path)
    for aside, path in moved:
        os.replace(aside, path)
