"""Every setting of qa in one place: the QA_* environment variables, the repository's folders and
the limits that requests, the engine and the command line share."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
# What the package ships: the stopword list and the fitted re-ranker.
PACKAGE_DATA = Path(__file__).resolve().parent / "data"
DEFAULT_CORPUS = REPOSITORY / "corpus"
DEFAULT_WEB = REPOSITORY / "web"
# pdf.js, which the page's source viewer draws PDF pages with: `npm ci` installs it here.
DEFAULT_PDFJS = REPOSITORY / "node_modules" / "pdfjs-dist"

# Requests. A body is JSON of a question and its conversation: 64 KB holds the longest allowed.
MAX_BODY_BYTES = 64 * 1024
MAX_QUESTION = 1000
MAX_HISTORY = 10
# Citations per answer, for the API, the command line and the engine alike.
K_MIN, K_MAX, K_DEFAULT = 1, 20, 5
# GET /api/documents pages through the document list (a large corpus holds many thousands).
LIMIT_MIN, LIMIT_MAX, LIMIT_DEFAULT = 1, 1000, 100
MAX_OFFSET = 10**9
# Uploads (POST and PUT /api/documents): a multipart body may be this large unless QA_MAX_UPLOAD
# says otherwise; a collection is one plain folder name; an uploaded file's name is kept to show.
MAX_UPLOAD_DEFAULT = 32 * 1024 * 1024
MAX_COLLECTION = 64
MAX_FILE_NAME = 255


@dataclass(frozen=True)
class Settings:
    """What the QA_* variables say, with defaults for those unset (see the README's table)."""

    corpus: Path | None = None  # QA_CORPUS; None: the repository's corpus/
    index: Path | None = None  # QA_INDEX; None: a folder of the user's cache (index_folder)
    web: Path = DEFAULT_WEB  # QA_WEB
    pdfjs: Path = DEFAULT_PDFJS  # QA_PDFJS
    rate_limit: str = "60/minute"  # QA_RATE_LIMIT
    reload: str = "1"  # QA_RELOAD
    host: str = "127.0.0.1"  # QA_HOST
    port: str = "8000"  # QA_PORT
    workers: int | None = None  # QA_WORKERS; None: one per CPU
    timeout: int = 10  # QA_TIMEOUT
    # Reading documents: a longer PDF is refused (a book-length one takes minutes to read), and
    # so is a Word file whose zip unpacks to more than this many bytes (a zip bomb).
    max_pages: int = 1000  # QA_MAX_PAGES
    max_unpacked: int = 256 * 1024 * 1024  # QA_MAX_UNPACKED_MB, in MB
    # Writes (uploads, replacing and removing documents) need this bearer key; None: no writes.
    api_key: str | None = None  # QA_API_KEY
    # Reads of the API need this key (or the API key) when it is set; None: reads are open.
    read_key: str | None = None  # QA_READ_KEY
    max_upload: int = MAX_UPLOAD_DEFAULT  # QA_MAX_UPLOAD, in bytes
    # The Ray cluster that serves a sharded index (`auto`, `host:6379`, `ray://host:10001`);
    # None: the shards are served in each process (qa.service.cluster).
    cluster: str | None = None  # QA_CLUSTER
    replicas: int = 1  # QA_REPLICAS: copies of each shard on the cluster

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        def given(name: str) -> str | None:
            return environ.get(name) or None  # set but empty counts as unset

        return cls(
            corpus=_path(given("QA_CORPUS")),
            index=_path(given("QA_INDEX")),
            web=Path(given("QA_WEB") or DEFAULT_WEB),
            pdfjs=Path(given("QA_PDFJS") or DEFAULT_PDFJS),
            rate_limit=environ.get("QA_RATE_LIMIT", cls.rate_limit),
            reload=environ.get("QA_RELOAD", cls.reload),
            host=environ.get("QA_HOST", cls.host),
            port=environ.get("QA_PORT", cls.port),
            workers=int(given("QA_WORKERS") or 0) or None,
            timeout=int(given("QA_TIMEOUT") or cls.timeout),
            max_pages=int(given("QA_MAX_PAGES") or cls.max_pages),
            max_unpacked=int(given("QA_MAX_UNPACKED_MB") or 0) * 1024 * 1024 or cls.max_unpacked,
            api_key=given("QA_API_KEY"),
            read_key=given("QA_READ_KEY"),
            max_upload=int(given("QA_MAX_UPLOAD") or cls.max_upload),
            cluster=given("QA_CLUSTER"),
            replicas=_positive("QA_REPLICAS", given("QA_REPLICAS") or str(cls.replicas)),
        )


def _positive(name: str, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a whole number from 1, not {value!r}")
    return int(value)


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def corpus_folder(given: str | Path | None = None) -> Path:
    """The corpus folder: the one given, else $QA_CORPUS, else the repository's corpus/."""
    return Path(given) if given else Settings.from_env().corpus or DEFAULT_CORPUS


def index_folder(corpus_dir: Path, given: str | Path | None = None) -> Path:
    """The index folder: the one given, else $QA_INDEX, else a folder of the user's cache named
    after the corpus folder's path."""
    if given:
        return Path(given)
    if (index := Settings.from_env().index) is not None:
        return index
    tag = hashlib.blake2b(str(corpus_dir.resolve()).encode(), digest_size=4).hexdigest()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "qa" / f"{corpus_dir.resolve().name}-{tag}"


def semantic_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether QA_SEMANTIC turns the optional semantic stage on (1, true, yes, on)."""
    return environ.get("QA_SEMANTIC", "").strip().lower() in ("1", "true", "yes", "on")


def cpus() -> int:
    """The CPUs this process may run on (a container's cpuset), not every CPU of the host."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
