"""The executor seam: where an order approved by the core goes once its intent is on disk.

The daemon holds a list of ``Executor`` objects and treats them alike: each approved
order is ``submit``-ted to every one, every feed event and every journaled record is
shown to each, and each says how it is (``health``, merged into the snapshot's
``execution`` block) and closes on stop. Which executors run is chosen by
``[executor] kind`` (``rugsd run --executor`` / ``--live`` override it) through
``EXECUTORS``:

- ``paper``: the core fills the order itself (``PaperVenue``, the shared matching rule —
  the one accounting path replay and evaluation use); ``PaperExecutor.submit`` only
  releases the held order. On the simulator the order is also mirrored to it
  (``[executor] mirror``) and the two ledgers are reconciled each cooldown.
- ``browser``: the order is clicked on the venue page; its ``ExecReport`` and the venue's
  account updates come back into the core (the core does not fill it: ``paper_fills``
  is False).

To add an executor: a class with these methods (``BaseExecutor`` has the no-op
defaults), one ``ExecutorKind`` entry in ``EXECUTORS`` — see
tests/daemon/runtime/test_runtime_executors.py for a worked example.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rugsd.daemon.config import Settings
from rugsd.daemon.core.inputs import ReleaseOrder
from rugsd.daemon.events import GameUpdate
from rugsd.daemon.game.accounting import Account
from rugsd.daemon.journal.records import FillRecord, OrderRecord, OrderStatus
from rugsd.daemon.runtime.startup import DaemonError, now_ms
from rugsd.risk.verdicts import Order


@dataclass(frozen=True)
class ExecContext:
    """What an executor may use of the running daemon (no back-reference to it)."""

    settings: Settings
    step: Callable[[Any], None]  # one input into the core (journaled; never raises)
    account: Callable[[], Account]  # the core's account now
    held: Callable[[str], bool]  # is this order waiting for its release?
    venue: Any  # runtime.venue.Venue
    feed: Any  # feed.client.FeedClient
    mode: str  # paper | live
    live: bool
    data_dir: Path
    strategy: Any


class Executor(Protocol):
    """One way orders leave the daemon (see the module doc)."""

    name: str

    def feed_auth(self) -> dict[str, Any] | None:
        """The feed's Socket.IO auth this executor needs (None: no opinion)."""

    async def start(self, ctx: ExecContext) -> None:
        """Before the feed runs: open what the executor needs."""

    async def feed_started(self) -> None:
        """The feed task runs (the mirror takes its ledger baseline here)."""

    def submit(self, order: Order) -> None:
        """An approved order whose intent is journaled; never raises, never blocks."""

    def on_feed_event(self, event: Any) -> None:
        """Every parsed feed event, in arrival order."""

    def on_records(self, records: Iterable[Any]) -> None:
        """Every record of a step, once journaled."""

    def between_games(self) -> None:
        """Once per cooldown."""

    def health(self) -> dict[str, Any]:
        """Keys merged into the snapshot's ``execution`` block."""

    async def close(self) -> None:
        """On stop: let work in flight finish (bounded) and release resources."""


class BaseExecutor:
    """No-op defaults for the ``Executor`` methods an executor does not need."""

    name = "base"

    def feed_auth(self) -> dict[str, Any] | None:
        return None

    async def start(self, ctx: ExecContext) -> None:
        self.ctx = ctx

    async def feed_started(self) -> None:
        return None

    def submit(self, order: Order) -> None:
        return None

    def on_feed_event(self, event: Any) -> None:
        return None

    def on_records(self, records: Iterable[Any]) -> None:
        return None

    def between_games(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return {}

    async def close(self) -> None:
        return None


class PaperExecutor(BaseExecutor):
    """Paper: the core fills; an order is released to its paper venue once journaled."""

    name = "paper"

    def submit(self, order: Order) -> None:
        if self.ctx.held(order.order_id):  # a presale order fills at once
            self.ctx.step(ReleaseOrder(now_ms(), order.order_id))


class MirrorExecutor(BaseExecutor):
    """Paper orders also sent to the simulator; ledgers compared each cooldown."""

    name = "mirror"

    def __init__(self, player: str) -> None:
        self.player = player
        self.mirror: Any = None  # runtime.mirror.SimMirror once started

    def feed_auth(self) -> dict[str, Any] | None:
        return {"player": self.player}

    async def start(self, ctx: ExecContext) -> None:
        from rugsd.daemon.runtime.mirror import SimMirror

        self.ctx = ctx
        self.mirror = SimMirror(ctx.feed, ctx.venue.url, self.player)

    async def feed_started(self) -> None:
        feed = self.ctx.feed
        if await feed.wait_connected(self.ctx.settings.feed.connect_timeout_s):
            await self.mirror.baseline(self.ctx.account)

    def submit(self, order: Order) -> None:
        self.mirror.send(order)

    def on_records(self, records: Iterable[Any]) -> None:
        """Paper's outcome of each order, so the mirror compares like with like."""
        for record in records:
            if isinstance(record, FillRecord) and record.order_id is not None:
                self.mirror.paper_outcome(record.order_id, True, record.tick)
            elif isinstance(record, OrderRecord) and record.status == OrderStatus.REJECTED.value:
                self.mirror.paper_outcome(record.order_id, False, None)

    def between_games(self) -> None:
        asyncio.get_running_loop().create_task(self.mirror.reconcile(self.ctx.account))

    def health(self) -> dict[str, Any]:
        if self.mirror is None:
            return {}
        s = self.mirror.stats
        return {"mirror": {"sent": s.sent, "reconciled": s.reconciled,
                           "mismatches": s.mismatches, "late": s.late}}

    async def close(self) -> None:
        if self.mirror is not None:
            await self.mirror.close()


class BrowserExecutor(BaseExecutor):
    """Clicks on the venue page (Playwright); reports and account updates come back."""

    name = "browser"

    def __init__(self) -> None:
        self.bridge: Any = None  # runtime.browser_bridge.BrowserBridge once started

    async def start(self, ctx: ExecContext) -> None:
        from rugsd.daemon.runtime.browser_bridge import BrowserBridge  # playwright: if used

        self.ctx = ctx
        player = ctx.settings.paper.player_name
        page_url = (ctx.settings.live.venue_url if ctx.live
                    else f"{ctx.venue.url.rstrip('/')}/?player={player}")
        self.bridge = BrowserBridge(ctx.settings, page_url, ctx.data_dir, ctx.step)
        await self.bridge.start(ctx.mode, ctx.venue, ctx.strategy)

    def submit(self, order: Order) -> None:
        self.bridge.submit(order)

    def on_feed_event(self, event: Any) -> None:
        if not isinstance(event, GameUpdate):
            self.bridge.on_feed_event(event)  # confirmations of our clicks

    def health(self) -> dict[str, Any]:
        return {"last_error": self.bridge.last_error if self.bridge else None}

    @property
    def playwright(self) -> Any:
        """The Playwright executor (its page, counts, state), for tests and tools."""
        return self.bridge.executor if self.bridge is not None else None

    @property
    def in_flight(self) -> int:
        return self.bridge.in_flight if self.bridge is not None else 0

    async def close(self) -> None:
        if self.bridge is not None:
            await self.bridge.close()


@dataclass(frozen=True)
class ExecutorKind:
    """One ``[executor] kind``: whether the core fills paper, and how to build the list."""

    paper_fills: bool  # True: the core fills (PaperVenue); False: the venue reports fills
    build: Callable[[Settings, Any], list[Executor]]  # (settings, venue) -> executors


def _paper(settings: Settings, venue: Any) -> list[Executor]:
    # the mirror sends first: a released presale order fills at once
    mirror = settings.executor.mirror and getattr(venue, "is_simulator", False)
    return [MirrorExecutor(settings.paper.player_name), PaperExecutor()] if mirror \
        else [PaperExecutor()]


EXECUTORS: dict[str, ExecutorKind] = {
    "paper": ExecutorKind(paper_fills=True, build=_paper),
    "browser": ExecutorKind(paper_fills=False, build=lambda s, v: [BrowserExecutor()]),
}


def executor_kind(name: str) -> ExecutorKind:
    """The registered kind ``name``; a clear error otherwise."""
    try:
        return EXECUTORS[name]
    except KeyError:
        raise DaemonError(f"unknown executor {name!r} (known: {', '.join(EXECUTORS)})") \
            from None


def merged_health(executors: Iterable[Executor]) -> dict[str, Any]:
    """The snapshot's execution keys from every executor (None where none reports)."""
    out: dict[str, Any] = {"last_error": None, "mirror": None}
    for ex in executors:
        out.update(ex.health())
    return out


def feed_auth(executors: Iterable[Executor]) -> dict[str, Any] | None:
    """The feed's auth from every executor (None when none needs one)."""
    auth: dict[str, Any] = {}
    for ex in executors:
        auth |= ex.feed_auth() or {}
    return auth or None
