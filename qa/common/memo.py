"""A dict that computes what it lacks and forgets everything at a bound, so memory stays bounded."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(dict[K, V]):
    """`memo[key]` is `compute(key)`, remembered until `bound` keys are held, then all forgotten.

    Forgetting all at once costs nothing per lookup (no recency to keep, unlike an LRU cache),
    and what is asked often is soon remembered again. A lookup that finds its key is a plain dict
    lookup: that is the point, on paths where a hash or a binary search per call adds up.
    """

    def __init__(self, compute: Callable[[K], V], bound: int) -> None:
        super().__init__()
        self.compute, self.bound = compute, bound

    def remember(self, found: dict[K, V]) -> None:
        """Holds these values too, forgetting everything first when they would pass the bound."""
        if found and len(self) + len(found) > self.bound:
            self.clear()
        self.update(found)

    def __missing__(self, key: K) -> V:
        if len(self) >= self.bound:
            self.clear()
        value = self[key] = self.compute(key)
        return value
