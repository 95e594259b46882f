"""A read-only, fixed-length snapshot over the machine's growing price list.

The state machine appends one price per tick to a list it owns. Copying that list into
every ``GameView`` (read every tick) would cost O(ticks); instead a view holds a
``PriceHistory``: the list plus the length at snapshot time. The machine only ever
*appends* to a list that a snapshot may share, and copies the list before it corrects an
old slot (copy-on-write), so a snapshot never changes and can never show a tick later
than the one it was taken at.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any, overload


class PriceHistory(Sequence[float]):
    """``prices[t]`` for ``t`` in ``0..len-1``: an immutable prefix of a shared list."""

    __slots__ = ("_data", "_n")

    def __init__(self, data: list[float], n: int | None = None) -> None:
        """Snapshot the first ``n`` items of ``data`` (all of them when ``n`` is None)."""
        self._data = data
        self._n = len(data) if n is None else min(n, len(data))

    def __len__(self) -> int:
        """Number of ticks in the snapshot."""
        return self._n

    @overload
    def __getitem__(self, index: int) -> float: ...

    @overload
    def __getitem__(self, index: slice) -> list[float]: ...

    def __getitem__(self, index: int | slice) -> float | list[float]:
        """An element (negative indices count from the snapshot's end) or a list slice."""
        n = self._n
        if isinstance(index, slice):
            if index.step is not None and index.step < 0:
                return self._data[:n][index]  # negative steps: slice the prefix copy
            start, stop, step = index.indices(n)
            return self._data[start:stop:step]
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("price index out of range")
        return self._data[index]

    def __iter__(self) -> Iterator[float]:
        """Iterate over the snapshot's prices in tick order."""
        return islice(self._data, self._n)

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence holding the same prices."""
        if isinstance(other, PriceHistory):
            return self._n == other._n and self._data[: self._n] == other._data[: other._n]
        if isinstance(other, (list, tuple)):
            return self._n == len(other) and self._data[: self._n] == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        """Short form: length and last price."""
        last = self._data[self._n - 1] if self._n else None
        return f"PriceHistory(len={self._n}, last={last!r})"

    def tolist(self) -> list[float]:
        """A fresh list copy of the snapshot."""
        return self._data[: self._n]

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        """NumPy conversion (``np.asarray(view.prices)``) without element-wise access."""
        import numpy as np  # local: the state package itself does not need numpy

        return np.array(self._data[: self._n], dtype=dtype if dtype is not None else float)


EMPTY_PRICES: Sequence[float] = PriceHistory([], 0)
