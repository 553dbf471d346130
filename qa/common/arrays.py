"""Arrays kept as plain .npy files and loaded memory-mapped, so processes share one copy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np


def save(folder: Path, arrays: Mapping[str, np.ndarray]) -> list[str]:
    """Writes each array to `<name>.npy` (no pickle) and returns the file names."""
    files = []
    for name, array in arrays.items():
        path = folder / f"{name}.npy"
        try:
            np.save(path, np.ascontiguousarray(array), allow_pickle=False)
            # A write cut short is not always reported (a full disk, a size limit): read back.
            np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            code = getattr(exc, "errno", None)
            why = getattr(exc, "strerror", None) or "it was cut short; is the disk full?"
            message = f"cannot write {path.name}: {why}"
            raise (OSError(code, message) if code else OSError(message)) from exc
        files.append(path.name)
    return files


def load(folder: Path, names: Iterable[str]) -> dict[str, np.ndarray]:
    """The arrays, read-only and memory-mapped: pages come from the page cache when first used.

    Raises ValueError or OSError when a file is missing, truncated or not a plain array.
    """
    # np.asarray drops the memmap subclass, whose bookkeeping slows every slice down.
    return {
        name: np.asarray(np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False))
        for name in names
    }


def compact(counts: np.ndarray) -> np.ndarray:
    """Counts that are never negative, in the smallest unsigned type that holds them."""
    return counts.astype(np.min_scalar_type(int(counts.max(initial=0))))


def positions(values: np.ndarray) -> np.ndarray:
    """Offsets or positions as int32 while they fit, else int64: signed, so that differences of
    them stay right, and half the bytes of int64 for any corpus below 2 GB of text."""
    fits = not len(values) or int(values.max()) < 2**31 and int(values.min()) >= -(2**31)
    return values.astype(np.int32 if fits else np.int64)


def codes(values: np.ndarray) -> np.ndarray:
    """Codes of at least -1 (for none) in the smallest signed type that holds them."""
    # The type of -(max + 1) is the smallest signed one that holds max (and -1).
    return values.astype(np.min_scalar_type(-(int(values.max(initial=0)) + 1)))
