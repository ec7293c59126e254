"""A mapping made when first read: for a cycle's figures that most callers never read."""

from __future__ import annotations

from collections.abc import Callable, Collection, ItemsView, Iterator, Mapping, ValuesView
from typing import TypeVar

V = TypeVar("V")


class Later(Mapping[str, V]):
    """`make()`, made when first read; its keys (`keys`, in `make`'s order) are known at once,
    so a reader of keys and length pays nothing. What `make` reads is never changed once a
    cycle has made it."""

    __slots__ = ("_keys", "_made", "_make")

    def __init__(self, keys: Collection[str], make: Callable[[], dict[str, V]]) -> None:
        self._keys = keys
        self._make = make
        self._made: dict[str, V] | None = None

    def _all(self) -> dict[str, V]:
        made = self._made
        if made is None:
            made = self._made = self._make()
        return made

    def __getitem__(self, key: str) -> V:
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def items(self) -> ItemsView[str, V]:
        return self._all().items()

    def values(self) -> ValuesView[V]:
        return self._all().values()

    def __repr__(self) -> str:
        return repr(self._all())
