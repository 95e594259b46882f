"""Paper orders mirrored to the simulator, and the simulator's ledger reconciled with ours.

On the simulator the daemon's paper fills and the simulator's own fills follow the same
matching rule (``daemon.game.matching``), so after every game the change in our paper
balance must equal the change in the simulator's ledger for our player, to the lamport.
A mismatch is logged and counted — it would mean the two paths disagree on money.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog

from daemon.game.accounting import Account, lamports_to_sol
from risk.verdicts import Order
from strategy.intents import Action

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
    last: dict[str, Any] = field(default_factory=dict)


class SimMirror:
    """Sends each paper order to the simulator as well and compares ledgers per game."""

    def __init__(self, feed: Any, venue_url: str, player: str, ack_timeout_s: float = 5.0):
        self.feed = feed
        self.url = venue_url.rstrip("/") + f"/ledger/{player}"
        self.ack_timeout_s = ack_timeout_s
        self.stats = MirrorStats()
        self._base: tuple[int, int] | None = None  # (sim balance, our balance) at the start
        self._tasks: set[asyncio.Task] = set()

    def send(self, order: Order) -> None:
        """Fire the order at the simulator (the answer is only logged and counted)."""
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
        if ack.get("success"):
            self.stats.acked_ok += 1
        else:
            self.stats.acked_refused += 1
            log.info("simulator refused mirrored order", order_id=order.order_id, ack=ack)

    async def ledger(self) -> dict[str, Any] | None:
        """Our player's exact account in the simulator (None when unreachable)."""
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
                async with http.get(self.url) as resp:
                    return await resp.json() if resp.status == 200 else None
        except (TimeoutError, aiohttp.ClientError, ValueError, OSError):
            return None

    async def baseline(self, ours: Account) -> None:
        """Remember both balances at the start (the simulator may know our player already)."""
        entry = await self.ledger()
        sim_balance = int(entry["balance"]) if entry else 0
        self._base = (sim_balance, ours.balance)

    async def reconcile(self, ours: Account) -> bool | None:
        """Compare balance changes and positions after a game; None if not comparable."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self.ack_timeout_s)
        entry = await self.ledger()
        if entry is None or self._base is None:
            if self._base is None:
                await self.baseline(ours)
            return None
        sim_delta = int(entry["balance"]) - self._base[0]
        our_delta = ours.balance - self._base[1]
        ok = sim_delta == our_delta and int(entry.get("qty", 0)) == ours.qty
        self.stats.last = {"sim_delta": sim_delta, "paper_delta": our_delta, "ok": ok}
        if ok:
            self.stats.reconciled += 1
        else:
            self.stats.mismatches += 1
            log.error("paper and simulator ledgers differ", sim_delta=sim_delta,
                      paper_delta=our_delta, sim_qty=entry.get("qty"), paper_qty=ours.qty)
        return ok

    async def close(self) -> None:
        """Wait briefly for mirrored orders in flight."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=1.0)
