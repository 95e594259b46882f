"""Paper orders mirrored to the simulator, and the simulator's ledger reconciled with ours.

On the simulator the daemon's paper fills and the simulator's own fills follow the same
matching rule (``rugsd.daemon.game.matching``), so for the same fills the change in our paper
balance over a game must equal the change in the simulator's ledger for our player, to
the lamport. A mismatch is logged and counted — it would mean the two paths disagree on
money.

"The same fills" is checked per order before money is compared. Paper fills an active
order at the first tick the *daemon* sees after deciding; the simulator fills it at the
first tick *it* emits after receiving it. When the order reaches the simulator after it
has already emitted that next tick (a fast simulator, a stalled loop), the two fill it at
different ticks — or the simulator meets the rug first. That is latency, not a rule
disagreement: such a game is counted as ``late`` (both outcomes logged) and not compared.
Each comparison covers the games since the previous one (the baseline moves forward), so
one late or mismatched game does not spoil the games after it. Both ledgers are read at
a quiet moment: no mirrored order in flight, and our account read after the simulator
answered (a presale buy filled in between would otherwise shift one side only). With
``paper.latency_ms > 0`` paper fills later than the simulator by design: such games are
all ``late``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog

from rugsd.daemon.game.accounting import Account, lamports_to_sol
from rugsd.risk.verdicts import Order
from rugsd.strategy.intents import Action

log = structlog.get_logger(__name__)

_EMITS = {Action.BUY: "buyOrder", Action.SELL: "sellOrder", Action.SIDEBET: "requestSidebet"}


def order_payload(order: Order) -> tuple[str, dict[str, Any]]:
    """The Socket.IO emit for an order (amounts in SOL on the wire)."""
    name = _EMITS[order.action]
    if order.action is Action.SELL:
        return name, {"percentage": order.percentage}
    payload: dict[str, Any] = {"amount": lamports_to_sol(order.amount)}
    if order.action is Action.SIDEBET:
        payload |= {"coinAddress": "So11111111111111111111111111111111111111112", "xPayout": 5}
    return name, payload


@dataclass
class MirrorStats:
    """Counters for the status line and tests."""

    sent: int = 0
    acked_ok: int = 0
    acked_refused: int = 0
    errors: int = 0
    reconciled: int = 0
    mismatches: int = 0
    late: int = 0  # comparisons skipped: an order filled at another tick in the simulator
    last: dict[str, Any] = field(default_factory=dict)


AccountSource = Account | Callable[[], Account]
"""Our paper account, or a function returning the live one."""

Outcome = tuple[bool, int | None]
"""(filled, tick of the fill) of one order on one side; (False, None) when refused."""


@dataclass
class _Pair:
    """One mirrored order: what paper did with it and what the simulator did."""

    order_id: str
    tick: int  # the tick it was decided at (-1 in presale)
    paper: Outcome | None = None
    sim: Outcome | None = None


def _current(ours: AccountSource) -> Account:
    return ours() if callable(ours) else ours


def ack_outcome(ack: dict[str, Any]) -> Outcome:
    """The simulator's outcome of an order from its ack."""
    if not ack.get("success"):
        return False, None
    tick = ack.get("tickIndex")
    if tick is None and isinstance(ack.get("sidebet"), dict):
        tick = ack["sidebet"].get("startTick")
    return True, int(tick) if isinstance(tick, int | float) else None


class SimMirror:
    """Sends each paper order to the simulator as well and compares ledgers per game."""

    def __init__(self, feed: Any, venue_url: str, player: str, ack_timeout_s: float = 5.0):
        self.feed = feed
        self.url = venue_url.rstrip("/") + f"/ledger/{player}"
        self.ack_timeout_s = ack_timeout_s
        self.stats = MirrorStats()
        self._base: tuple[int, int] | None = None  # (sim balance, our balance) at the start
        self._tasks: set[asyncio.Task] = set()
        self._pairs: dict[str, _Pair] = {}  # orders sent since the baseline

    def send(self, order: Order) -> None:
        """Fire the order at the simulator (the answer is only logged and counted)."""
        self._pairs[order.order_id] = _Pair(order.order_id, order.tick)
        task = asyncio.get_running_loop().create_task(self._send(order))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, order: Order) -> None:
        name, payload = order_payload(order)
        self.stats.sent += 1
        try:
            ack = await self.feed.emit_with_ack(name, payload, self.ack_timeout_s)
        except Exception as err:  # noqa: BLE001 - a mirror failure must never stop trading
            self.stats.errors += 1
            log.warning("mirror order failed", order_id=order.order_id, error=str(err))
            return
        pair = self._pairs.get(order.order_id)
        if pair is not None:
            pair.sim = ack_outcome(ack)
        if ack.get("success"):
            self.stats.acked_ok += 1
        else:
            self.stats.acked_refused += 1
            log.info("simulator refused mirrored order", order_id=order.order_id, ack=ack)

    def paper_outcome(self, order_id: str, filled: bool, tick: int | None) -> None:
        """What paper did with a mirrored order (the daemon reports its fills/refusals)."""
        pair = self._pairs.get(order_id)
        if pair is not None:
            pair.paper = (True, tick) if filled else (False, None)

    async def ledger(self) -> dict[str, Any] | None:
        """Our player's exact account in the simulator (None when unreachable)."""
        try:
            timeout = aiohttp.ClientTimeout(total=2)
            async with aiohttp.ClientSession(timeout=timeout) as http, http.get(self.url) as resp:
                return await resp.json() if resp.status == 200 else None
        except (TimeoutError, aiohttp.ClientError, ValueError, OSError):
            return None

    async def _quiet_ledger(self) -> dict[str, Any] | None:
        """The simulator's ledger read while none of our orders is in flight.

        None when the simulator is unreachable or an order went out meanwhile: the two
        ledgers are then not at the same point (try again at the next cooldown).
        """
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self.ack_timeout_s)
        sent = self.stats.sent
        entry = await self.ledger()
        if entry is None or self.stats.sent != sent or self._tasks:
            return None
        return entry

    async def baseline(self, ours: AccountSource) -> bool:
        """Remember both balances (the simulator may know our player already).

        ``ours`` is read after the simulator answered (pass a callable for the live
        account): a value captured before the request could miss an order paper filled
        meanwhile. False when no quiet moment was found (``reconcile`` tries again).
        """
        entry = await self._quiet_ledger()
        if entry is None:
            return False
        self._base = (int(entry["balance"]), _current(ours).balance)
        self._pairs = {}
        return True

    async def reconcile(self, ours: AccountSource) -> bool | None:
        """Compare the balance changes since the last comparison (normally one game).

        Returns True/False for equal/different money, None when not comparable: the
        simulator is unreachable, an order was in flight, there was no baseline yet, or
        an order did not fill at the same tick on both sides (``late``: latency, see the
        module doc).
        """
        entry = await self._quiet_ledger()
        if entry is None:
            return None
        acct = _current(ours)
        sim_balance = int(entry["balance"])
        if self._base is None:
            self._base = (sim_balance, acct.balance)
            self._pairs = {}
            return None
        sim_delta = sim_balance - self._base[0]
        our_delta = acct.balance - self._base[1]
        pairs = list(self._pairs.values())
        self._base = (sim_balance, acct.balance)
        self._pairs = {}
        differ = [p for p in pairs if p.paper is None or p.sim is None or p.paper != p.sim]
        if differ:
            self.stats.late += 1
            self.stats.last = {"sim_delta": sim_delta, "paper_delta": our_delta, "ok": None,
                               "late_orders": len(differ)}
            log.warning(
                "mirrored orders filled differently (latency): game not compared",
                orders=[{"order_id": p.order_id, "decided_tick": p.tick, "paper": p.paper,
                         "sim": p.sim} for p in differ[:5]],
                sim_delta=sim_delta, paper_delta=our_delta,
            )
            return None
        ok = sim_delta == our_delta and int(entry.get("qty", 0)) == acct.qty
        self.stats.last = {"sim_delta": sim_delta, "paper_delta": our_delta, "ok": ok}
        if ok:
            self.stats.reconciled += 1
        else:
            self.stats.mismatches += 1
            log.error("paper and simulator ledgers differ", sim_delta=sim_delta,
                      paper_delta=our_delta, sim_qty=entry.get("qty"), paper_qty=acct.qty,
                      orders=len(pairs))
        return ok

    async def close(self) -> None:
        """Wait briefly for mirrored orders in flight."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=1.0)
