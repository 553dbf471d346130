"""Saving and loading a built index: a folder of plain files with a checked manifest (no pickle).

The arrays (BM25 weights, vocabulary, passages) are .npy files that load memory-mapped, so a
saved index is ready at once and the processes that load it share one copy in the page cache.
A rebuild writes a new folder and swaps it in; files are never changed in place, so a process
still mapping the old ones keeps reading them whole.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from qa import index as bm25
from qa import passages
from qa.corpus import Corpus, Document, Skipped, cpus
from qa.index import BM25Index
from qa.passages import PassageTable

# Bump when the analyzer, parser or file layout changes: an index of another format is rebuilt.
FORMAT = 3
MANIFEST = "manifest.json"
CORPUS = "corpus.json"
# What the corpus says of its own words: the aliases it defines, how it spells its words.
ALIASES = "aliases.json"
LEXICON = "lexicon.json"
FILES = (
    [f"{bm25.PREFIX}{name}.npy" for name in bm25.ARRAYS]
    + [f"{passages.PREFIX}{name}.npy" for name in passages.COLUMNS]
    + [CORPUS, ALIASES, LEXICON]
)


class IndexUnusable(Exception):
    """The saved index is missing, stale, damaged or of another format."""


def save(
    folder: Path, corpus: Corpus, index: BM25Index, fingerprint: str, words: Mapping[str, object]
) -> None:
    """Writes the index beside `folder` and swaps it in, so a crash never leaves half an index.

    `words` holds the JSON of ALIASES and LEXICON.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{folder.name}.new-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    index.save(staging)
    corpus.table.save(staging)
    documents = [
        {"id": d.id, "title": d.title, "path": d.path, "sections": d.sections}
        for d in corpus.documents
    ]
    (staging / CORPUS).write_text(
        json.dumps({"documents": documents, "strings": corpus.table.strings}, ensure_ascii=False),
        "utf-8",
    )
    for name in (ALIASES, LEXICON):
        (staging / name).write_text(json.dumps(words[name], ensure_ascii=False), "utf-8")
    manifest = {
        "format": FORMAT,
        "fingerprint": fingerprint,
        "checksums": {name: _sha256(staging / name) for name in FILES},
        "skipped": [dataclasses.asdict(s) for s in corpus.skipped],
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=1), "utf-8")
    retired = folder.with_name(f".{folder.name}.old-{os.getpid()}")
    if folder.exists():
        folder.rename(retired)
    staging.rename(folder)
    shutil.rmtree(retired, ignore_errors=True)


def load(folder: Path, fingerprint: str) -> tuple[Corpus, BM25Index]:
    """The saved corpus and index; IndexUnusable when stale (`fingerprint` differs) or damaged."""
    manifest = _manifest(folder)
    if manifest.get("fingerprint") != fingerprint:
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
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexUnusable(f"damaged index ({exc})") from exc
    if len(table) != index.size:
        raise IndexUnusable("passages and weights disagree")
    for number, document in enumerate(documents):
        document.passages = table.document(number)
    return Corpus(documents, skipped, table), index


def read_words(folder: Path, name: str) -> object:
    """ALIASES or LEXICON of a loaded (so checked) index."""
    return json.loads((folder / name).read_text("utf-8"))


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
    # Hashing releases the GIL: threads check the files on every CPU at once.
    with ThreadPoolExecutor(cpus()) as pool:
        sums = pool.map(_sha256_if_readable, [folder / name for name in FILES])
        actual = dict(zip(FILES, sums, strict=True))
    for name in FILES:
        if actual[name] is None:
            raise IndexUnusable(f"{name} is missing or unreadable")
        if actual[name] != checksums[name]:
            raise IndexUnusable(f"{name} is damaged (checksum mismatch)")


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
