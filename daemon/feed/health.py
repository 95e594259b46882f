"""Feed health: is the feed connected and are game updates still arriving?

``FeedHealth`` is pure: the caller passes the time in (a monotonic clock in ms for ages,
the receive timestamp for reporting). It starts *stale* — nothing is known until the
first game update — so a consumer that halts on stale (the risk layer) trades only on a
fresh feed. It turns stale when no game update arrived for ``stale_after_ms`` or when
the connection drops, and fresh again on the next game update.

``HealthWatchdog`` is the small asyncio shell that polls ``FeedHealth.check`` and calls
a callback on every stale/fresh transition.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from enum import StrEnum
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class StaleReason(StrEnum):
    """Why the feed is (or became) stale."""

    NONE = "none"  # fresh
    STARTING = "starting"  # no game update seen yet
    NO_UPDATES = "no_updates"  # silent for longer than stale_after
    DISCONNECTED = "disconnected"  # the socket dropped


@dataclass(frozen=True, slots=True)
class HealthChange:
    """A stale/fresh transition."""

    stale: bool
    reason: StaleReason


@dataclass(frozen=True, slots=True)
class FeedHealthSnapshot:
    """What the TUI, `rugsd status` and the risk layer see of the feed."""

    connected: bool
    stale: bool
    reason: StaleReason
    last_update_ts_ms: int | None  # receive time (wall clock) of the latest game update
    age_ms: int | None  # how long ago that was (monotonic), None before the first one
    updates: int  # game updates received
    events: int  # raw events received (all names)
    connects: int
    reconnects: int  # successful connects after the first one
    disconnects: int
    parse_stats: dict[str, Any] = field(default_factory=dict)


def stats_dict(stats: Any) -> dict[str, Any]:
    """A parser's ``.stats`` (method, dataclass, mapping or object) as a plain dict."""
    if stats is None:
        return {}
    if callable(stats) and not isinstance(stats, type):  # e.g. EventParser.stats()
        try:
            stats = stats()
        except Exception as err:  # noqa: BLE001 - reporting must not fail
            return {"error": repr(err)[:200]}
        if stats is None:
            return {}
    if is_dataclass(stats) and not isinstance(stats, type):
        return asdict(stats)
    if isinstance(stats, Mapping):
        return dict(stats)
    if hasattr(stats, "__dict__"):
        return {k: v for k, v in vars(stats).items() if not k.startswith("_")}
    return {"value": repr(stats)}


class FeedHealth:
    """Pure feed-health state; every method takes the current monotonic time in ms."""

    def __init__(self, stale_after_ms: int) -> None:
        if stale_after_ms <= 0:
            raise ValueError("stale_after_ms must be > 0")
        self.stale_after_ms = stale_after_ms
        self.connected = False
        self.stale = True
        self.reason = StaleReason.STARTING
        self.last_update_mono_ms: int | None = None
        self.last_update_ts_ms: int | None = None
        self.updates = 0
        self.events = 0
        self.connects = 0
        self.disconnects = 0

    @property
    def reconnects(self) -> int:
        """Successful connects after the first one."""
        return max(self.connects - 1, 0)

    def on_connect(self) -> None:
        """The socket connected (first time or again). Freshness waits for an update."""
        self.connected = True
        self.connects += 1

    def on_disconnect(self) -> HealthChange | None:
        """The socket dropped: stale at once (no point waiting for the timeout)."""
        if self.connected:
            self.disconnects += 1
        self.connected = False
        return self._set(True, StaleReason.DISCONNECTED)

    def on_event(self) -> None:
        """Any raw event arrived."""
        self.events += 1

    def on_game_update(self, ts_ms: int, now_mono_ms: int) -> HealthChange | None:
        """A parsed game update arrived: fresh again — unless the socket is down (a
        message still being dispatched after the disconnect must not look fresh)."""
        self.updates += 1
        self.last_update_ts_ms = ts_ms
        self.last_update_mono_ms = now_mono_ms
        if not self.connected:
            return None
        return self._set(False, StaleReason.NONE)

    def check(self, now_mono_ms: int) -> HealthChange | None:
        """Go stale when the latest update is older than ``stale_after_ms``."""
        if self.stale or self.last_update_mono_ms is None:
            return None
        if now_mono_ms - self.last_update_mono_ms > self.stale_after_ms:
            return self._set(True, StaleReason.NO_UPDATES)
        return None

    def snapshot(self, now_mono_ms: int, parse_stats: Any = None) -> FeedHealthSnapshot:
        """An immutable copy of the state."""
        age = None
        if self.last_update_mono_ms is not None:
            age = max(now_mono_ms - self.last_update_mono_ms, 0)
        return FeedHealthSnapshot(
            connected=self.connected,
            stale=self.stale,
            reason=self.reason,
            last_update_ts_ms=self.last_update_ts_ms,
            age_ms=age,
            updates=self.updates,
            events=self.events,
            connects=self.connects,
            reconnects=self.reconnects,
            disconnects=self.disconnects,
            parse_stats=stats_dict(parse_stats),
        )

    def _set(self, stale: bool, reason: StaleReason) -> HealthChange | None:
        if stale == self.stale:
            if stale:
                self.reason = reason
            return None
        self.stale = stale
        self.reason = reason
        return HealthChange(stale, reason)


def monotonic_ms() -> int:
    """The monotonic clock in ms (ages are measured on it, never on the wall clock)."""
    return time.monotonic_ns() // 1_000_000


class HealthWatchdog:
    """Polls ``FeedHealth`` and reports transitions to ``on_change(change, snapshot)``.

    Transitions caused directly by events (fresh on update, stale on disconnect) are
    reported through ``report``; the polling loop catches the silent ones (no updates).
    A failing callback is logged and counted, never propagated.
    """

    def __init__(
        self,
        health: FeedHealth,
        on_change: Callable[[HealthChange, FeedHealthSnapshot], None] | None = None,
        parse_stats: Callable[[], Any] | None = None,
        clock: Callable[[], int] = monotonic_ms,
        interval_s: float | None = None,
    ) -> None:
        self.health = health
        self.on_change = on_change
        self._parse_stats = parse_stats
        self._clock = clock
        # poll at a quarter of the stale window, at most every 250 ms
        self.interval_s = interval_s or min(0.25, health.stale_after_ms / 4000)
        self.callback_errors = 0

    def snapshot(self) -> FeedHealthSnapshot:
        """The current health."""
        stats = self._parse_stats() if self._parse_stats is not None else None
        return self.health.snapshot(self._clock(), stats)

    def report(self, change: HealthChange | None) -> None:
        """Log and forward a transition (no-op for ``None``)."""
        if change is None:
            return
        snap = self.snapshot()
        log.info("feed_stale" if change.stale else "feed_fresh", reason=change.reason.value,
                 connected=snap.connected, reconnects=snap.reconnects)
        if self.on_change is None:
            return
        try:
            self.on_change(change, snap)
        except Exception as err:  # noqa: BLE001 - a consumer bug must not kill the feed
            self.callback_errors += 1
            log.error("feed_health_callback_failed", error=repr(err)[:200])

    def tick(self) -> None:
        """One poll: check staleness now."""
        self.report(self.health.check(self._clock()))

    async def run(self, stop_event: asyncio.Event) -> None:
        """Poll until ``stop_event`` is set (or the task is cancelled)."""
        while not stop_event.is_set():
            self.tick()
            try:
                await asyncio.wait_for(stop_event.wait(), self.interval_s)
            except TimeoutError:
                pass
