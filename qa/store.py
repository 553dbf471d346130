"""Saving and loading a built index: a folder of plain files with a checked manifest (no pickle)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from pathlib import Path

from qa.corpus import Corpus, Document, Passage, Skipped
from qa.index import ARRAYS, VOCABULARY, BM25Index

# Bump when the analyzer, parser or file layout changes: an index of another format is rebuilt.
FORMAT = 1
MANIFEST = "manifest.json"
DOCUMENTS = "documents.json"


class IndexUnusable(Exception):
    """The saved index is missing, stale, damaged or of another format."""


def save(folder: Path, corpus: Corpus, index: BM25Index, fingerprint: str) -> None:
    """Writes the index beside `folder` and swaps it in, so a crash never leaves half an index."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{folder.name}.new-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    index.save(staging)
    (staging / DOCUMENTS).write_text(
        json.dumps([_document_row(d) for d in corpus.documents], ensure_ascii=False), "utf-8"
    )
    manifest = {
        "format": FORMAT,
        "fingerprint": fingerprint,
        "checksums": {name: _sha256(staging / name) for name in (ARRAYS, VOCABULARY, DOCUMENTS)},
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
    try:
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    except FileNotFoundError as exc:
        raise IndexUnusable("no saved index") from exc
    except (OSError, ValueError) as exc:
        raise IndexUnusable(f"unreadable manifest ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexUnusable("index of another format")
    if manifest.get("fingerprint") != fingerprint:
        raise IndexUnusable("the corpus has changed")
    for name, expected in dict(manifest.get("checksums") or {}).items():
        try:
            actual = _sha256(folder / name)
        except OSError as exc:
            raise IndexUnusable(f"{name} is missing") from exc
        if actual != expected:
            raise IndexUnusable(f"{name} is damaged (checksum mismatch)")
    try:
        index = BM25Index.load(folder)
        rows = json.loads((folder / DOCUMENTS).read_text("utf-8"))
        documents = [_document_from_row(row) for row in rows]
        skipped = [Skipped(**s) for s in manifest.get("skipped", [])]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexUnusable(f"damaged index ({exc})") from exc
    if sum(len(d.passages) for d in documents) != index.size:
        raise IndexUnusable("passages and weights disagree")
    return Corpus(documents, skipped), index


def _document_row(document: Document) -> dict:
    passages = [
        [p.kind, p.section, p.text, p.start, p.end, list(p.references), p.label]
        for p in document.passages
    ]
    return {
        "id": document.id,
        "title": document.title,
        "path": document.path,
        "sections": document.sections,
        "passages": passages,
    }


def _document_from_row(row: dict) -> Document:
    document = Document(row["id"], row["title"], row["path"], row["sections"])
    for ordinal, (kind, section, text, start, end, refs, label) in enumerate(row["passages"]):
        document.passages.append(
            Passage(
                f"{document.id}:{ordinal}",
                document.id,
                ordinal,
                kind,
                section,
                text,
                start,
                end,
                tuple(refs),
                label,
            )
        )
    return document


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
