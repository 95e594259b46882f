"""Settling our account at each tick by the venue's rule (paper fills and expiries).

Paper mode runs the shared matching rule (``rugsd.daemon.game.matching`` via ``PaperVenue``);
with an external executor the core settles its own belief by the same rules (forced
sell at the rug, sidebet expiry) and the venue's account reports win when they arrive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rugsd.daemon.game import accounting
from rugsd.daemon.game.accounting import Reject
from rugsd.daemon.game.matching import MatchReject, Outcome, PendingOrder
from rugsd.daemon.journal.records import OrderStatus

if TYPE_CHECKING:
    from rugsd.daemon.core.state import CoreState, StepOutput
    from rugsd.daemon.state.view import GameView


def settle(
    core: CoreState,
    view: GameView,
    tick: int,
    price: float,
    rugged: bool,
    ts_ms: int,
    out: StepOutput,
) -> None:
    """Run one tick through the venue rule for our account."""
    if not rugged:
        # most ticks: no sidebet expires and no paper order waits, so ``apply_rule``
        # would change nothing (tests/daemon/core prove both give one record stream)
        paper = core.paper
        idle = paper is None or not paper.pending
        if idle and not accounting.sidebet_expired(core.account, tick):
            return
    apply_rule(core, view, tick, price, rugged, ts_ms, out)


def apply_rule(
    core: CoreState,
    view: GameView,
    tick: int,
    price: float,
    rugged: bool,
    ts_ms: int,
    out: StepOutput,
) -> None:
    """The venue rule for one tick, in full (``settle`` without its shortcut)."""
    game_id = view.game_id or ""
    if core.paper is not None:
        match = core.paper.on_tick(core.account, tick, price, rugged, ts_ms)
        changed = bool(match.settlements)
        for fill in match.settlements:
            core.fill_record(None, fill, game_id, ts_ms, out)
        for pending, outcome in match.outcomes:
            changed |= order_outcome(core, pending, outcome, game_id, ts_ms, out)
        account = match.account
    else:  # external venue: settle our belief by the rules; the venue's reports win
        if rugged:
            account, fills = accounting.settle_rug(core.account, tick, price)
        else:
            account, lost = accounting.settle_tick(core.account, tick)
            fills = [lost] if lost is not None else []
        for fill in fills:
            core.fill_record(None, fill, game_id, ts_ms, out)
        changed = bool(fills)
    if changed:
        core.set_account(account, ts_ms, out, tick=tick, price=price)
    else:
        core.account = account


def order_outcome(
    core: CoreState,
    pending: PendingOrder,
    outcome: Outcome,
    game_id: str,
    ts_ms: int,
    out: StepOutput,
) -> bool:
    """Journal one order's fill or refusal; True when money moved."""
    if isinstance(outcome, tuple):
        _, fill = outcome
        core.fill_record(pending.order_id, fill, game_id, ts_ms, out)
        core.close_order(pending.order_id, OrderStatus.FILLED, fill.kind.value, ts_ms, out)
        core.risk_to(core.risk.on_execution_ok(ts_ms), out)
        return True
    assert isinstance(outcome, Reject | MatchReject)
    core.close_order(
        pending.order_id,
        OrderStatus.REJECTED,
        f"{outcome.reason}: {outcome.detail}",
        ts_ms,
        out,
    )
    core.stats[f"venue_reject_{outcome.reason}"] += 1
    return False
