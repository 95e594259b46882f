"""One log line per thing the decision core reports (``Notice``), bounded under a flood.

The core never logs: it hands the shell ``Notice``s (implausible input, strategy errors,
faults, orphan settlements). Each (kind, reason) logs its first occurrence at once, then
at most one line per ``interval_s`` carrying how many were suppressed meanwhile — so a
feed that sends 50 000 absurd prices leaves a handful of lines and exact counters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import structlog

from rugsd.daemon.core.state import Notice

log = structlog.get_logger(__name__)

_EVENTS = {
    "implausible": "feed value rejected as implausible",
    "strategy_error": "strategy raised: holding (WAIT) for this decision",
    "step_error": "decision step raised: trading KILLED",
    "fault": "fault: trading KILLED",
    "fault_cleared": "fault cleared (trading stays KILLED until `rugsd arm`)",
    "orphan": "position of an ended game",
    "stale_venue_account": "venue account older than our settlement: not taken",
}


class NoticeLog:
    """Throttled structlog output of core notices."""

    def __init__(self, interval_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._last: dict[tuple[str, str], float] = {}
        self._suppressed: dict[tuple[str, str], int] = {}

    def emit_all(self, notices: Iterable[Notice]) -> None:
        """Log each notice (or count it as suppressed)."""
        for notice in notices:
            self.emit(notice)

    def emit(self, notice: Notice) -> None:
        """Log one notice unless its kind and reason logged less than ``interval_s`` ago."""
        key = (notice.kind, notice.reason)
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return
        self._last[key] = now
        suppressed = self._suppressed.pop(key, 0)
        method = log.error if notice.level == "error" else log.warning
        method(_EVENTS.get(notice.kind, notice.kind), kind=notice.kind, reason=notice.reason,
               detail=notice.detail, suppressed=suppressed)
