"""Passage vectors, computed when an index version is made and kept beside its files.

Each passage's unit vector is stored in 8 bits a dimension (its largest component as 127) with
one float32 scale a passage: 388 bytes a sentence against 1,536 in float32, and the cosines it
gives differ from float32's by less than 0.01. The vectors of a version live in its folder, in a
`semantic/` folder of their own written under another name and renamed into place, so a version
whose vectors are there has all of them; they go with the version when it is pruned, and a new
version (any change to the corpus) gets its own, the vectors of passages whose text is unchanged
taken from the version before rather than computed again.

A passage's vector is made of its document's title, then its text (RECIPE), as dense retrievers
encode passages (DPR's title and text): the title says what a sentence is about when the
sentence does not name it ("The game was played on ..."). The recipe is saved with the vectors,
and vectors made by another are made again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.ingest.passages import PassageTable
from qa.semantic import encoder as semantic

log = logging.getLogger(__name__)

FOLDER = "semantic"
CODES, SCALES, DIGESTS, RECIPE_FILE = "codes.npy", "scales.npy", "digests.npy", "recipe.txt"
RECIPE = "{title}. {text}"
LEVELS = 127
# Passages whose cosines with a question are computed together (see Vectors.nearest).
BLOCK = 1 << 14


@dataclass(frozen=True)
class Vectors:
    """The passages' vectors, as 8-bit codes and a scale each."""

    codes: np.ndarray  # passages x DIMENSIONS, int8
    scales: np.ndarray  # passages, float32

    def __len__(self) -> int:
        return len(self.scales)

    def at(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of rows, as float32."""
        return self.codes[rows].astype(np.float32) * self.scales[rows, None]

    def nearest(
        self,
        vector: np.ndarray,
        k: int,
        allowed: np.ndarray | None,
        keys: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> np.ndarray:
        """The rows of the k vectors nearest `vector` by cosine, nearest first, among the
        `allowed` ones (None: all); ties in the order of their `keys` (None: their rows)."""
        # The question's codes too: sums of products of integers below 2**24 are exact in
        # float32, so equal passages score equal wherever they lie, and ties are real ties.
        question = quantize(vector[None].astype(np.float32)).codes[0].astype(np.float32)
        cosines = np.empty(len(self), np.float32)
        # Block by block: the codes made float32 at once would take four times their size.
        for start in range(0, len(self), BLOCK):
            block = slice(start, start + BLOCK)
            cosines[block] = (self.codes[block].astype(np.float32) @ question) * self.scales[block]
        if allowed is not None:
            cosines[~allowed] = -np.inf
        k = min(k, len(cosines) if allowed is None else int(np.count_nonzero(allowed)))
        if k <= 0:
            return np.zeros(0, np.intp)
        best = np.flatnonzero(cosines >= np.partition(cosines, -k)[-k])
        ties = best if keys is None else keys(best)
        return best[np.lexsort((ties, -cosines[best]))[:k]].astype(np.intp)


def quantize(vectors: np.ndarray) -> Vectors:
    biggest = np.abs(vectors).max(axis=1) if len(vectors) else np.zeros(0, np.float32)
    scales = np.where(biggest > 0, biggest / LEVELS, 1.0).astype(np.float32)
    codes = np.rint(vectors / scales[:, None]).astype(np.int8)
    return Vectors(codes, scales)


def digests(texts: Sequence[str]) -> np.ndarray:
    """A short digest of each text, to find the passages a version shares with another."""
    return np.array(
        [hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest() for t in texts], "S8"
    )


def passage_texts(titles: Sequence[str], passages: PassageTable) -> list[str]:
    """What each passage's vector is made of (RECIPE), given every document's title."""
    documents = np.repeat(np.arange(len(titles)), np.diff(passages.doc_starts))
    return [
        RECIPE.format(title=titles[d], text=p.text)
        for d, p in zip(documents.tolist(), passages, strict=True)
    ]


def stored_bytes(version: Path) -> int:
    """What a version's vectors take on disk: codes, scales and digests."""
    folder = version / FOLDER
    return sum(f.stat().st_size for f in folder.iterdir()) if folder.is_dir() else 0


def load(version: Path) -> Vectors | None:
    folder = version / FOLDER
    try:
        if (folder / RECIPE_FILE).read_text("utf-8") != RECIPE:
            return None
        codes = np.load(folder / CODES, mmap_mode="r")
        scales = np.load(folder / SCALES, mmap_mode="r")
    except (OSError, ValueError):
        return None
    return Vectors(codes, scales) if len(codes) == len(scales) else None


def ensure(
    version: Path, passages: int, texts_of: Callable[[], Sequence[str]]
) -> tuple[Vectors, float]:
    """The version's vectors of its `passages`, computed from their texts (`texts_of`, asked
    only then) and saved when it has none; and the seconds that took."""
    found = load(version)
    if found is not None and len(found) == passages:
        return found, 0.0
    started = time.perf_counter()
    texts = texts_of()
    wanted = digests(texts)
    vectors = np.zeros((len(texts), semantic.DIMENSIONS), np.float32)
    todo = np.ones(len(texts), bool)
    for row, vector in _reusable(version, wanted).items():
        vectors[row], todo[row] = vector, False
    if todo.any():
        new = [t for t, do in zip(texts, todo, strict=True) if do]
        vectors[todo] = semantic.encoder().encode(new)
    made = quantize(vectors)
    try:
        _save(version, made, wanted)
    except OSError as exc:
        log.warning("the passage vectors of %s are not saved: %s", version, exc)
    log.info(
        "vectors of %d passages (%d new) in %.1f s",
        len(texts),
        int(todo.sum()),
        time.perf_counter() - started,
    )
    return made, time.perf_counter() - started


def _reusable(version: Path, wanted: np.ndarray) -> dict[int, np.ndarray]:
    """Vectors of passages with the same text in another version of the same index folder."""
    place = {d: i for i, d in enumerate(wanted.tolist())}
    out: dict[int, np.ndarray] = {}
    for other in sorted(version.parent.glob("v-*"), reverse=True):
        if other == version or not (other / FOLDER / DIGESTS).exists():
            continue
        old = load(other)
        try:
            known = np.load(other / FOLDER / DIGESTS)
        except (OSError, ValueError):
            continue
        if old is None or len(known) != len(old):
            continue
        for i, d in enumerate(known.tolist()):
            row = place.get(d)
            if row is not None and row not in out:
                out[row] = old.at(np.array([i]))[0]
        break  # the newest other version with vectors
    return out


def _save(version: Path, vectors: Vectors, wanted: np.ndarray) -> None:
    staging = version / f".{FOLDER}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    np.save(staging / CODES, vectors.codes)
    np.save(staging / SCALES, vectors.scales)
    np.save(staging / DIGESTS, wanted)
    (staging / RECIPE_FILE).write_text(RECIPE, "utf-8")
    for name in (CODES, SCALES, DIGESTS, RECIPE_FILE):
        with (staging / name).open("rb") as f:
            os.fsync(f.fileno())
    shutil.rmtree(version / FOLDER, ignore_errors=True)
    staging.rename(version / FOLDER)
