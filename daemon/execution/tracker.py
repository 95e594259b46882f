"""``OrderTracker``: the feed side of browser execution (no browser, no I/O).

It follows our player on the feed — from the daemon's feed and from the page's own
websocket — and resolves the one order in flight:

- a matching ``standard/newTrade``/``newSideBet`` of our player fills it (duplicates from
  the two feeds are dropped by key);
- the page's order emit (``42<id>["buyOrder",…]``) gives the ack id whose refusal
  (``43<id>[{success: false}]``) rejects it;
- a ``playerUpdate`` is the venue's account: it replaces our belief; after a fill it
  completes the order's report, otherwise it goes to ``on_venue_account``.

The player id is given, or learned from the first ``playerUpdate`` the page receives
(only our own connection gets it).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rugsd.daemon.core.inputs import VenueAccount
from rugsd.daemon.events import Event, PlayerUpdate, SidebetEvent, TradeEvent
from rugsd.daemon.execution import confirm
from rugsd.daemon.game.accounting import Account
from rugsd.risk.verdicts import Order

SEEN_KEYS = 512


@dataclass(slots=True)
class Waiter:
    """The order in flight and what the feed has said about it."""

    order: Order
    done: asyncio.Event = field(default_factory=asyncio.Event)
    account_seen: asyncio.Event = field(default_factory=asyncio.Event)
    ack_id: int | None = None
    applied: confirm.Applied | None = None
    rejected: str | None = None
    venue: Account | None = None


class OrderTracker:
    """Our player's feed events → order confirmations and venue accounts."""

    def __init__(
        self,
        player_id: str | None,
        counts: dict[str, int],
        on_venue_account: Callable[[VenueAccount], None] | None = None,
    ) -> None:
        """``counts`` is shared with the executor (``duplicates``, ``disagreements``)."""
        self.player_id = player_id
        self.account: Account | None = None
        self.counts = counts
        self.on_venue_account = on_venue_account
        self.player_known = asyncio.Event()
        if player_id is not None:
            self.player_known.set()
        self.waiter: Waiter | None = None
        self._seen: deque[tuple] = deque(maxlen=SEEN_KEYS)
        self._seen_set: set[tuple] = set()

    def begin(self, order: Order) -> Waiter:
        """Start waiting for ``order`` (one at a time)."""
        self.waiter = Waiter(order)
        return self.waiter

    def end(self) -> None:
        """Stop waiting: later events about it are ordinary feed events."""
        self.waiter = None

    def on_event(self, event: Event, raw: dict[str, Any] | None, from_page: bool) -> None:
        """One parsed feed event (``raw``: its wire payload when it came from the page)."""
        if isinstance(event, PlayerUpdate):
            self._on_player_update(event, raw, from_page)
            return
        if not isinstance(event, TradeEvent | SidebetEvent) or self._duplicate(event):
            return
        w = self.waiter
        if w is not None and w.applied is None and confirm.matches(w.order, self.player_id, event):
            applied = confirm.fill_for(w.order, event, self.account)
            if not applied.agrees and self.account is not None:
                self.counts["disagreements"] += 1
            if applied.account is not None:
                self.account = applied.account
            w.applied = applied
            w.done.set()
        elif (
            isinstance(event, SidebetEvent) and event.player_id == self.player_id
            and event.type in ("won", "lost") and self.account is not None
        ):
            self.account = confirm.with_sidebet(self.account, None)

    def _duplicate(self, event: TradeEvent | SidebetEvent) -> bool:
        key = confirm.event_key(event)
        if key is None:
            return False
        if key in self._seen_set:
            self.counts["duplicates"] += 1
            return True
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(key)
        self._seen_set.add(key)
        return False

    def _on_player_update(self, ev: PlayerUpdate, raw: dict[str, Any] | None, from_page: bool) -> None:
        if self.player_id is None and from_page and ev.player_id:
            self.player_id = ev.player_id  # only our own connection receives playerUpdate
            self.player_known.set()
        if ev.player_id is not None and ev.player_id != self.player_id:
            return
        if ev.player_id is None and not from_page:
            return
        account = confirm.venue_account(ev, self.account)
        if raw is not None and "sideBet" in raw:
            account = confirm.with_sidebet(account, raw["sideBet"])
        self.account = account
        w = self.waiter
        if w is not None and w.applied is not None:
            w.venue = account
            w.account_seen.set()
        elif self.on_venue_account is not None:
            self.on_venue_account(VenueAccount(ev.ts_ms, account))

    def on_sent(self, name: str, ack_id: int) -> None:
        """The page emitted an order: the first one of our kind is ours."""
        w = self.waiter
        if w is not None and w.ack_id is None and name == confirm.ORDER_EVENT.get(w.order.action):
            w.ack_id = ack_id

    def on_ack(self, name: str, ack_id: int, args: tuple[Any, ...]) -> None:
        """The venue answered an order of the page: a refusal of ours rejects it."""
        w = self.waiter
        if w is None or w.ack_id != ack_id or w.applied is not None:
            return
        detail = confirm.ack_refusal(args)
        if detail is not None:
            w.rejected = detail
            w.done.set()
