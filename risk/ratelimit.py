"""Orders-per-minute sliding window (pure value; time comes in as ``ts_ms``).

The window at time ``t`` is the half-open interval ``(t - window_ms, t]``: an order sent
exactly ``window_ms`` ago no longer counts. Timestamps later than ``t`` (an event clock
that stepped back) still count, which errs on the side of refusing.
"""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_MS = 60_000


@dataclass(frozen=True, slots=True)
class RateWindow:
    """Send times (ms) of recent orders, oldest first, pruned as it goes."""

    times: tuple[int, ...] = ()
    window_ms: int = WINDOW_MS

    def count(self, ts_ms: int) -> int:
        """Orders inside the window ending at ``ts_ms``."""
        start = ts_ms - self.window_ms
        return sum(1 for t in self.times if t > start)

    def allows(self, ts_ms: int, max_orders: int) -> bool:
        """True if one more order at ``ts_ms`` keeps the window at or below ``max_orders``."""
        return self.count(ts_ms) < max_orders

    def record(self, ts_ms: int) -> RateWindow:
        """The window after an order sent at ``ts_ms`` (expired times dropped)."""
        start = ts_ms - self.window_ms
        kept = tuple(t for t in self.times if t > start)
        return RateWindow((*kept, ts_ms), self.window_ms)
