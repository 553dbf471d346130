"""Documents added, replaced and removed through the API: files in the corpus folder, then a new
version of the index, made by qa.index.writer.Changes as `qa index` makes one.

An uploaded file is kept as `<corpus>/<collection or uploads>/<slug>-<content hash>.<ext>`: a
name made here, never the client's, so that a restart or `qa index` sees the same documents; the
same bytes sent again (under any name) map to the file already kept. Each file is read by its
reader before it is written, so a file the index could not use never enters the corpus. Only the
files written are read again: they become a new segment of the index; a failed update undoes the
files' changes.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import BadRequest, HTTPException

from qa.answer.engine import Engine
from qa.index import writer
from qa.index.build import IndexNotSaved
from qa.index.store import IndexBusy
from qa.ingest.corpus import CorpusError, Document, read_document, slugify
from qa.ingest.readers import READERS, UNSUPPORTED, supported
from qa.service import validation
from qa.service.responses import CODES, DocumentChanges, ErrorDetail, FileOutcome

UPLOADS = "uploads"  # the folder of uploads sent without a collection
HASH_BYTES = 5  # 10 hex digits: a collision between two different files is not a concern here
STEM = 60
# Seconds a write waits for another process writing the index before answering 503.
WRITER_WAIT = 60.0
# One write at a time in this process (the development server answers on several threads);
# other processes are kept out by the index's writer lock.
_WRITING = threading.Lock()

# What GET /api/documents/<id>/file serves each type as: never text/html from this origin.
# What GET /api/documents/<id>/file serves each type as. Only a PDF is shown by the browser itself
# (pdf.js reads it); everything else comes as an attachment, HTML and Word as bytes to save, so
# that no document is ever shown as a page of our origin. Flask adds "; charset=utf-8" to text.
DOWNLOADED = "application/octet-stream"
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".docx": DOWNLOADED,
    ".txt": "text/plain",
    ".md": "text/plain",
    ".html": DOWNLOADED,
    ".htm": DOWNLOADED,
}
assert set(CONTENT_TYPES) == set(READERS)


class WriteFailed(HTTPException):
    """The corpus could not be changed; the files are as they were."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.code = status


@dataclass
class Refused:
    file: str
    status: int
    message: str


@dataclass
class Checked:
    """A file whose reader could use it, with where it is (or is to be) kept."""

    file: str
    stored: str  # a path in the corpus folder, "/" between parts
    content: bytes
    exists: bool


def stored_name(original: str, content: bytes) -> str:
    """The name a file is kept under: a slug of its own name, its content's hash, its type."""
    suffix = PurePosixPath(original).suffix.lower()
    stem = slugify(original)[:STEM].strip("-")
    return f"{stem}-{_content_hash(content)}{suffix}"


def _content_hash(content: bytes) -> str:
    return hashlib.blake2b(content, digest_size=HASH_BYTES).hexdigest()


def check_file(corpus: Path, folder: str, upload: FileStorage) -> Checked | Refused:
    """The upload checked (name, type, what its reader makes of it), or why it is refused."""
    original = upload.filename or ""
    try:
        validation.file_name(original)
    except BadRequest as exc:
        return Refused(original, 400, str(exc.description))
    suffix = PurePosixPath(original).suffix
    if not supported(suffix):
        shown = suffix or "no extension"
        return Refused(original, 415, f"{shown}: {UNSUPPORTED}")
    target = corpus / folder
    if target.is_symlink() or not target.resolve().is_relative_to(corpus.resolve()):
        # A folder of the corpus that is a link elsewhere: files are never written through it.
        return Refused(original, 400, f"collection {folder!r} is not a folder of the corpus")
    content = upload.read()
    existing = _same_bytes(corpus / folder, content, suffix.lower())
    name = existing or stored_name(original, content)
    stored = f"{folder}/{name}" if folder else name
    read = read_document(corpus, corpus / stored, content)
    if not isinstance(read, Document):
        return Refused(original, 400, read.reason)
    return Checked(original, stored, content, existing is not None)


def _same_bytes(folder: Path, content: bytes, suffix: str) -> str | None:
    """The name of a file kept in `folder` with exactly these bytes, if any."""
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob(f"*-{_content_hash(content)}{suffix}")):
        try:
            if path.is_file() and path.read_bytes() == content:
                return path.name
        except OSError:
            continue
    return None


def refusal(refused: Refused) -> FileOutcome:
    detail = ErrorDetail(CODES.get(refused.status, f"http_{refused.status}"), refused.message)
    return FileOutcome(refused.file, "refused", None, None, None, detail)


def all_refused(refused: list[Refused]) -> WriteFailed:
    """The error of a call none of whose files was taken: their status when they share one."""
    statuses = {r.status for r in refused}
    status = statuses.pop() if len(statuses) == 1 else 400
    return WriteFailed(status, "; ".join(f"{r.file or 'file'}: {r.message}" for r in refused))


def change(
    engine: Engine,
    add: list[Checked],
    remove: list[str],
    install: Callable[[Engine], None],
) -> Engine:
    """Writes the files `add`, removes the corpus files `remove` (paths in the corpus), and
    installs the engine of the index so updated (qa.index.writer.Changes): the new files become
    a new segment, the removed ones' documents are deleted. Nothing changes when that fails.

    Raises WriteFailed: 409 when the corpus would hold no usable document, 503 when the index is
    being written by another process past WRITER_WAIT or cannot be saved.
    """
    corpus = engine.corpus_dir
    kept = {checked.stored for checked in add}
    changes = writer.Changes(corpus, engine.index_dir, wait=WRITER_WAIT)
    for checked in add:
        if not checked.exists and not (corpus / checked.stored).exists():
            changes.add(checked.stored, checked.content)
    for name in remove:
        if name not in kept:
            changes.remove(name)
    with _WRITING:
        try:
            done = changes.commit()
        except CorpusError as exc:
            raise WriteFailed(
                409, f"refused: the corpus would hold no usable document ({exc})"
            ) from exc
        except IndexBusy as exc:
            raise WriteFailed(503, f"{exc}; nothing was changed, try again") from exc
        except (IndexNotSaved, OSError) as exc:
            raise WriteFailed(503, "the index cannot be saved now; nothing was changed") from exc
        new = Engine.load_version(corpus, engine.index_dir, done.version, engine.serve)
        install(new)
        return new


def outcomes(
    engine: Engine,
    checked: list[Checked | Refused],
    kind: str = "added",
    removed: str | None = None,
) -> list[FileOutcome]:
    """Each file's outcome, with the document that the new index holds for it."""
    by_path = {d.path: d.id for d in engine.corpus.documents}
    summaries = {s.id: s for s in engine.documents()}
    skipped = {s.file: s.reason for s in engine.corpus.skipped}
    out = []
    for item in checked:
        if isinstance(item, Refused):
            out.append(refusal(item))
        elif item.stored in by_path:
            outcome = "exists" if item.exists and kind == "added" else kind
            document = summaries[by_path[item.stored]]
            out.append(FileOutcome(item.file, outcome, document, item.stored, removed, None))
        else:  # read here but not by the build: the file changed meanwhile
            reason = skipped.get(item.stored, "not in the index")
            out.append(refusal(Refused(item.file, 400, reason)))
    return out


def changes(files: list[FileOutcome], engine: Engine, started: float) -> DocumentChanges:
    took = round((time.perf_counter() - started) * 1000, 3)
    return DocumentChanges(files, engine.version_dir.name, took)
