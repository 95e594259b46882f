"""An executor's report carries the venue's account as it was when the order filled; the
core may have settled the account since (a sidebet's window passed, the game rugged).
Such a snapshot must not put a settled sidebet back: the report's fills are applied to
the core's current account instead, and the venue's next account update reconciles."""

from __future__ import annotations

from core_helpers import START_MS, ScriptedStrategy, events_of, game_with_prices, limits

from rugsd.daemon.core.decision import CoreSettings, DecisionCore
from rugsd.daemon.core.inputs import ExecReport, ExecStatus
from rugsd.daemon.events import GameUpdate
from rugsd.daemon.game import accounting
from rugsd.daemon.game.accounting import open_account, sol_to_lamports
from rugsd.daemon.journal.records import FillRecord
from rugsd.strategy.intents import WAIT, Action, Intent

STAKE = sol_to_lamports(0.001)
BET = sol_to_lamports(0.002)


def _rule(view, acct):
    if view.tick == 2 and acct.sidebet is None and acct.qty == 0:
        return Intent(Action.SIDEBET, amount=STAKE, source="test:sidebet")
    if view.tick == 10 and acct.qty == 0:
        return Intent(Action.BUY, amount=BET, source="test:buy")
    return WAIT


def _external_core() -> DecisionCore:
    cfg = CoreSettings(run_id="race", limits=limits(max_orders_per_minute=10_000),
                       order_prefix="race", paper_latency_ms=None)  # the venue fills
    return DecisionCore(ScriptedStrategy(_rule), cfg, open_account(sol_to_lamports(1.0)))


def _active_tick(ev: GameUpdate, tick: int) -> bool:
    return ev.active and not ev.rugged and ev.tick == tick


def test_a_late_report_with_an_old_snapshot_does_not_reopen_a_settled_sidebet() -> None:
    core = _external_core()
    prices = [1.0 + 0.001 * t for t in range(80)]
    events = iter(events_of([game_with_prices("20251030-00000000000000bb", prices, START_MS)]))
    records: list = []

    def until(tick: int) -> list:
        orders = []
        for ev in events:
            out = core.step(ev)
            records.extend(out.records)
            orders += out.orders
            if _active_tick(ev, tick):
                return orders
        raise AssertionError(f"tick {tick} not reached")

    # the sidebet is clicked at tick 2 and reported at once, with the venue's account
    (bet_order,) = until(2)
    venue, placed = accounting.place_sidebet(core.account, STAKE, 2)
    core.step(ExecReport(START_MS, bet_order.order_id, ExecStatus.FILLED, fills=(placed,),
                         account=venue))
    assert core.account.sidebet is not None
    # the buy is clicked at tick 10; the venue fills it (its account still has the bet)...
    (buy_order,) = until(10)
    venue, bought = accounting.buy(venue, BET, prices[10], 10)
    # ...but the report comes late: meanwhile the window ended and the core settled it
    until(venue.sidebet.end_tick + 1)
    assert core.account.sidebet is None
    settled = core.account

    out = core.step(ExecReport(START_MS, buy_order.order_id, ExecStatus.FILLED,
                               fills=(bought,), account=venue))
    records.extend(out.records)
    assert core.account.sidebet is None
    assert core.stats["exec_report_stale_account"] == 1
    until(60)

    assert core.account.sidebet is None
    assert core.account.qty == bought.qty
    assert core.account.balance == accounting.apply_fill(settled, bought).balance
    losses = [r for r in records if isinstance(r, FillRecord) and r.kind == "sidebet_loss"]
    assert len(losses) == 1  # settled once, not reopened and settled again
