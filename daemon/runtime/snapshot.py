"""Build the control-plane snapshot (docs/control-protocol.md) from the core's state.

Pure: it reads the core and the figures the shell passes in; the control server calls it
on its own schedule, never from inside a decision step.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

from rugsd.daemon.core.decision import DecisionCore, LastDecision, describe_intent
from rugsd.daemon.core.faults import fault_counts
from rugsd.daemon.events import Phase
from rugsd.daemon.game import accounting
from rugsd.daemon.game.accounting import lamports_to_sol
from rugsd.strategy.actions import ACTION_NAMES

MAX_PRICES = 300


def account_block(core: DecisionCore) -> dict[str, Any]:
    """Balance, position, P&L and sidebet in SOL for display."""
    acct = core.account
    view = core.view
    price = view.price if view.phase in (Phase.ACTIVE, Phase.PRESALE) else 0.0
    value = accounting.value_of(acct.qty, price) if acct.qty and price > 0 else 0
    equity = acct.balance + value
    start = core.figures.start_equity if core.figures else equity
    bet = acct.sidebet
    return {
        "balance_sol": lamports_to_sol(acct.balance),
        "qty": acct.qty / 1e9,
        "avg_entry": acct.avg_entry,
        "cost_sol": lamports_to_sol(acct.cost),
        "value_sol": lamports_to_sol(value),
        "unrealised_sol": lamports_to_sol(value - acct.cost) if acct.qty else 0.0,
        "realised_sol": lamports_to_sol(acct.realised),
        "equity_sol": lamports_to_sol(equity),
        "session_pnl_sol": lamports_to_sol(equity - start),
        "entry_tick": acct.entry_tick,
        "sidebet": None if bet is None else {
            "start_tick": bet.start_tick,
            "end_tick": bet.end_tick,
            "stake_sol": lamports_to_sol(bet.stake),
            "ticks_left": max(0, bet.end_tick - max(view.tick, 0)),
        },
        "orphan": orphan_block(core),
    }


def orphan_block(core: DecisionCore) -> dict[str, Any] | None:
    """The latest settlement of exposure left from an ended game (a restart, a feed
    gap), or the wait for one: which game, how (pending | revealed | unknown)."""
    rep = core.orphan_report
    if rep is None:
        return None
    return {"game_id": rep.game_id, "how": rep.how, "ts_ms": rep.ts_ms,
            "detail": rep.detail, "realised_sol": lamports_to_sol(rep.realised)}


def limits_block(core: DecisionCore) -> list[dict[str, Any]]:
    """Usage of the main limits, for the risk panel's bars."""
    lim = core.cfg.limits
    acct = core.account
    fig = core.figures
    open_stake = acct.sidebet.stake if acct.sidebet else 0
    rows = [
        ("position", acct.cost, lim.max_position, "SOL"),
        ("exposure", acct.cost + open_stake, lim.max_exposure, "SOL"),
        ("daily loss", max(0, fig.daily_loss) if fig else 0, lim.max_daily_loss, "SOL"),
        ("drawdown", fig.drawdown if fig else 0, lim.max_drawdown, "SOL"),
    ]
    out = [
        {"name": n, "used": lamports_to_sol(u), "limit": lamports_to_sol(m), "unit": unit}
        for n, u, m, unit in rows
    ]
    ts = core.view.ts_ms
    out.append({
        "name": "orders/min", "used": float(core.rate.count(ts)),
        "limit": float(lim.max_orders_per_minute), "unit": "orders",
    })
    return out


def decision_row(d: LastDecision) -> dict[str, Any]:
    """One decision-log row."""
    return {
        "ts_ms": d.ts_ms, "game_id": d.game_id, "tick": d.tick,
        "intent": describe_intent(d.intent),
        "verdict": d.verdict, "reason": d.reason, "order_id": d.order_id,
    }


def build_snapshot(
    core: DecisionCore,
    *,
    seq: int,
    now_ms: int,
    daemon: dict[str, Any],
    feed: dict[str, Any],
    execution: dict[str, Any],
    decisions: Iterable[LastDecision] | deque,
    kill_latched: bool,
) -> dict[str, Any]:
    """The full snapshot dict streamed to control-plane subscribers."""
    view = core.view
    prices = list(view.prices[max(0, view.tick + 1 - MAX_PRICES): view.tick + 1])
    first_tick = max(0, view.tick + 1 - len(prices))
    outputs = core.last_outputs
    risk = core.risk
    return {
        "type": "snapshot",
        "seq": seq,
        "ts_ms": now_ms,
        "daemon": daemon,
        "game": {
            "game_id": view.game_id,
            "phase": view.phase.value,
            "tick": view.tick,
            "price": view.price,
            "peak": view.peak,
            "cooldown_ms": view.cooldown_ms,
            "prices": prices,
            "first_tick": first_tick,
        },
        "markers": [
            {"tick": t, "price": p, "kind": k}
            for g, t, p, k in core.markers if g == view.game_id
        ],
        "account": account_block(core),
        "model": {
            "action_names": list(ACTION_NAMES),
            "action_probs": list(outputs.action_probs) if outputs and outputs.action_probs
            else None,
            "p_rug": outputs.p_rug if outputs else None,
            "non_finite": core.stats["held_non_finite"],
        },
        "risk": {
            "state": risk.trading_state.value.upper(),
            "kill_latched": kill_latched or risk.killed,
            "kill_reason": risk.kill_reason.value if risk.kill_reason else None,
            "faults": fault_counts(core.stats),
            "flags": {
                "operator_paused": risk.operator_paused,
                "feed_stale": risk.feed_stale,
                "exec_errors": risk.exec_errors,
            },
            "limits": limits_block(core),
        },
        "decisions": [decision_row(d) for d in decisions],
        "feed": feed,
        "execution": execution,
    }
