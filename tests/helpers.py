"""What several test files share: the repository's folders, the test data and small helpers."""

from __future__ import annotations

import random
import time
from pathlib import Path

from qa.index import store
from qa.index.store import MANIFEST

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "corpus"
# Copies of the development data, so that no test reads outside the repository (see its README).
DATA = ROOT / "tests" / "data"
MANY_DOCUMENTS = 250
QUESTION = "Which checkpoint was recaptured on 6 June?"
# Every field of an answer, written out so that a field added or dropped fails the shape tests.
ANSWER_KEYS = {
    "answer",
    "abstained",
    "answer_span",
    "citations",
    "quoted",
    "message",
    "note",
    "anchor",
    "query",
    "took_ms",
}


def manifest_stamp(index: Path) -> tuple[int, int]:
    """The current manifest's inode and modification time, which change only when it is saved."""
    stat = (store.current(index) / MANIFEST).stat()
    return stat.st_ino, stat.st_mtime_ns


def flip_a_byte(path: Path) -> None:
    """Corrupts a file in its middle, keeping its size."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def zipf_corpus(n_docs: int, seed: int = 7) -> list[list[str]]:
    """Sentences of a Zipf-like vocabulary, so some terms are in most documents (negative idf)."""
    rng = random.Random(seed)
    vocab = [f"t{i}" for i in range(2000)]
    weights = [1 / (rank + 1) for rank in range(len(vocab))]
    return [rng.choices(vocab, weights, k=rng.randint(0, 30)) for _ in range(n_docs)]


def until(condition, seconds: float = 60) -> bool:
    """Whether the condition holds within `seconds`, looked at every half second."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True
