"""``SimMirror``'s comparison rules with a scripted simulator edge (acks and ledger
answers): equal fills must give equal money; fills at different ticks are ``late``, not
mismatches; an order in flight postpones the comparison; each game stands alone."""

from __future__ import annotations

import asyncio
from typing import Any

from rugsd.daemon.game.accounting import Account, open_account
from rugsd.daemon.runtime.mirror import SimMirror, ack_outcome
from rugsd.risk.verdicts import Order
from rugsd.strategy.intents import Action

START = 10_000_000_000


class ScriptedFeed:
    """The feed edge: answers each emit with the next scripted ack."""

    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []
        self.emitted: list[tuple[str, dict[str, Any]]] = []
        self.gate: asyncio.Event | None = None

    async def emit_with_ack(self, name: str, payload: Any, timeout: float) -> dict[str, Any]:
        self.emitted.append((name, payload))
        if self.gate is not None:
            await self.gate.wait()
        return self.acks.pop(0)


class ScriptedMirror(SimMirror):
    """A mirror whose ledger answers come from ``self.sim`` (the HTTP edge)."""

    def __init__(self, feed: ScriptedFeed) -> None:
        super().__init__(feed, "http://sim.invalid", "rugsd-paper", ack_timeout_s=1.0)
        self.sim: dict[str, Any] = {"balance": START, "qty": 0}

    async def ledger(self) -> dict[str, Any] | None:
        await asyncio.sleep(0)
        return dict(self.sim)


def _order(oid: str, action: Action, tick: int) -> Order:
    return Order(oid, action, 10_000_000 if action is Action.BUY else 0,
                 100 if action is Action.SELL else 0, "g", tick, 0, 1.0)


def _trade_ack(tick: int) -> dict[str, Any]:
    return {"success": True, "orderId": "x", "tickIndex": tick}


async def _game(mirror: ScriptedMirror, feed: ScriptedFeed, sim_ticks: tuple[int, int],
                paper_ticks: tuple[int, int], sim_delta: int, paper: Account,
                paper_delta: int, n: int) -> Account:
    """One game: a presale buy and a sell, filled at the given ticks on each side."""
    feed.acks += [_trade_ack(sim_ticks[0]), _trade_ack(sim_ticks[1])]
    for i, (action, tick) in enumerate(((Action.BUY, -1), (Action.SELL, 3))):
        oid = f"o{n}-{i}"
        mirror.send(_order(oid, action, tick))
        mirror.paper_outcome(oid, True, paper_ticks[i])
    await asyncio.sleep(0.01)
    mirror.sim["balance"] += sim_delta
    return Account(balance=paper.balance + paper_delta, credited=paper.credited)


def test_mirror_ack_outcome_reads_trades_sidebets_and_refusals() -> None:
    assert ack_outcome({"success": True, "tickIndex": 7}) == (True, 7)
    assert ack_outcome({"success": True, "sidebet": {"startTick": 12}}) == (True, 12)
    assert ack_outcome({"success": False, "reason": "force_sold"}) == (False, None)


async def test_mirror_compares_each_game_and_sets_latency_apart() -> None:
    feed = ScriptedFeed()
    mirror = ScriptedMirror(feed)
    paper = open_account(START)
    assert await mirror.baseline(paper)

    paper = await _game(mirror, feed, (0, 4), (0, 4), -2_000, paper, -2_000, 1)
    assert await mirror.reconcile(paper) is True
    paper = await _game(mirror, feed, (0, 5), (0, 4), -9_000, paper, -2_000, 2)
    assert await mirror.reconcile(paper) is None  # filled a tick later there: latency
    paper = await _game(mirror, feed, (0, 4), (0, 4), 5_000, paper, 5_000, 3)
    assert await mirror.reconcile(paper) is True  # the late game does not spoil this one
    paper = await _game(mirror, feed, (0, 4), (0, 4), 5_000, paper, 4_000, 4)
    assert await mirror.reconcile(paper) is False  # same fills, different money

    s = mirror.stats
    assert (s.sent, s.reconciled, s.late, s.mismatches) == (8, 2, 1, 1)
    assert [name for name, _ in feed.emitted[:2]] == ["buyOrder", "sellOrder"]


async def test_mirror_waits_for_a_quiet_moment_and_reads_our_account_late() -> None:
    feed = ScriptedFeed()
    mirror = ScriptedMirror(feed)
    live = {"acct": open_account(START)}
    assert await mirror.baseline(lambda: live["acct"])

    async def ledger_while_buying() -> dict[str, Any]:
        # a presale buy fills on both sides while we wait for the simulator's answer
        mirror.sim["balance"] -= 10_000_000
        live["acct"] = Account(balance=START - 10_000_000, credited=START)
        return dict(mirror.sim)

    mirror.ledger = ledger_while_buying  # type: ignore[method-assign]
    assert await mirror.reconcile(lambda: live["acct"]) is True
    assert mirror.stats.last["sim_delta"] == mirror.stats.last["paper_delta"] == -10_000_000

    feed.gate = asyncio.Event()
    feed.acks.append(_trade_ack(0))
    mirror.send(_order("slow", Action.BUY, -1))
    mirror.ack_timeout_s = 0.05
    assert await mirror.reconcile(lambda: live["acct"]) is None  # an order still in flight
    feed.gate.set()
    await mirror.close()
