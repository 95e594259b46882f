"""Orders-per-minute sliding window (pure value; time comes in as ``ts_ms``).

The window at time ``t`` is the half-open interval ``(t - window_ms, t]``: an order sent
exactly ``window_ms`` ago no longer counts. Timestamps later than ``t`` (an event clock
that stepped back) still count, which errs on the side of refusing.

The times are kept sorted, so a count is one binary search: the decision core counts the
window on every decision (a feature and the gate), and a training episode may start with
a hundred orders already in it.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from dataclasses import dataclass
from itertools import pairwise

WINDOW_MS = 60_000


@dataclass(frozen=True, slots=True)
class RateWindow:
    """Send times (ms) of recent orders, oldest first, pruned as it goes."""

    times: tuple[int, ...] = ()
    window_ms: int = WINDOW_MS

    def __post_init__(self) -> None:
        # counting bisects: keep the times sorted whatever order a caller gave them in
        # (runs once per order, not per decision)
        times = self.times
        if any(b < a for a, b in pairwise(times)):
            object.__setattr__(self, "times", tuple(sorted(times)))

    def count(self, ts_ms: int) -> int:
        """Orders inside the window ending at ``ts_ms`` (later ones included, see above)."""
        times = self.times
        return len(times) - bisect_right(times, ts_ms - self.window_ms)

    def allows(self, ts_ms: int, max_orders: int) -> bool:
        """True if one more order at ``ts_ms`` keeps the window at or below ``max_orders``."""
        return self.count(ts_ms) < max_orders

    def record(self, ts_ms: int) -> RateWindow:
        """The window after an order sent at ``ts_ms`` (expired times dropped)."""
        times = self.times
        kept = list(times[bisect_right(times, ts_ms - self.window_ms):])
        insort(kept, ts_ms)
        return RateWindow(tuple(kept), self.window_ms)
