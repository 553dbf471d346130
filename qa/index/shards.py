"""Shards: an index split by document, so that an update touches one part and each part can be
served by another process or machine (qa.answer.shards, qa.service.cluster).

A file's documents go to the shard named by a stable hash of its name in the corpus (which their
ids are made from), so the same corpus always splits the same way. Each shard's segments are its
own and merge among themselves; a version names every shard's segments, and its statistics are
those of all the live passages, so a shard weighs its postings as the whole index does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np

# Rows and their place in a document fit one sort key: documents above, passages below.
PASSAGE_BITS = 32


def shard_of(name: str, shards: int) -> int:
    """The shard of a corpus file (its name in the corpus, "/" between parts)."""
    if shards == 1:
        return 0
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def listing_key(name: str) -> tuple[str, ...]:
    """What orders corpus names as qa.ingest.corpus.listing finds them: a folder's files (by
    name) before its sub-folders (by name)."""
    *folders, file = name.split("/")
    return (*folders, "\0" + file)


def tie_order(paths: Sequence[str], doc_starts: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Sort keys of rows by the corpus's order (its files as listed, then each document's
    passages): rows that tie on score are taken in that order, whichever shard or segment holds
    them, so a sharded index answers as one index of the same files does."""
    order = sorted(range(len(paths)), key=lambda d: (listing_key(paths[d]), d))
    rank = np.empty(len(paths), np.int64)
    rank[order] = np.arange(len(paths))
    starts = np.asarray(doc_starts, np.int64)

    def keys(rows: np.ndarray) -> np.ndarray:
        document = np.searchsorted(starts, rows, "right") - 1
        return (rank[document] << PASSAGE_BITS) + (rows - starts[document])

    return keys
