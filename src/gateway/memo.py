"""Work derived from a cached answer, done once per cached object rather than once per hit.

A cache hit hands back the very object the cache stores, so what the gateway derives from it
(the copy without `raw`, the JSON bytes of the answer) is the same every time: `IdentityMemo`
keeps the last `size` results keyed by the source object's identity. It holds the source
itself, so an id is never reused while its entry lives; cached answers are never changed in
place (new answers are new objects), so an entry never goes stale.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

S = TypeVar("S")
V = TypeVar("V")


class IdentityMemo(Generic[S, V]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._items: dict[int, tuple[S, V]] = {}

    def get(self, source: S, make: Callable[[S], V]) -> V:
        key = id(source)
        known = self._items.get(key)
        if known is not None and known[0] is source:
            return known[1]
        value = make(source)
        if len(self._items) >= self._size:
            self._items.pop(next(iter(self._items)))  # the oldest entry
        self._items[key] = (source, value)
        return value

    def __len__(self) -> int:
        return len(self._items)
