"""Arrays kept as plain .npy files and loaded memory-mapped, so processes share one copy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np


def save(folder: Path, arrays: Mapping[str, np.ndarray]) -> list[str]:
    """Writes each array to `<name>.npy` (no pickle) and returns the file names."""
    files = []
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        files.append(f"{name}.npy")
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
