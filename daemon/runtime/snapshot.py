"""Build the control-plane snapshot (docs/control-protocol.md) from the core's state.

Pure: it reads the core and the figures the shell passes in; the control server calls it
on its own schedule, never from inside a decision step.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from rugsd.daemon.core.decision import DecisionCore, LastDecision, describe_intent
from rugsd.daemon.core.faults import fault_counts
from rugsd.daemon.events import Phase
from rugsd.daemon.game import accounting
from rugsd.daemon.game.accounting import lamports_to_sol
from rugsd.strategy.actions import ACTION_NAMES

MAX_PRICES = 300
RECENT_DECISIONS = 50  # ``decisions``: every decision, WAITs too
LOG_ROWS = 100  # ``decision_log``: orders and refusals of the current and previous game
LOG_GAMES = 2


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
        "intent": describe_intent(d.intent), "source": d.intent.source,
        "verdict": d.verdict, "reason": d.reason, "order_id": d.order_id,
    }


@dataclass(slots=True)
class LogRow:
    """A decision-log row: one order, or a run of identical refusals (``repeat`` of them,
    the latest in ``last``)."""

    first: LastDecision
    last: LastDecision
    repeat: int = 1

    def absorbs(self, d: LastDecision) -> bool:
        """``d`` repeats this row's refusal (same game, intent and reason)."""
        f = self.first
        return (d.verdict == "refused" and f.verdict == "refused" and d.reason == f.reason
                and d.game_id == f.game_id and d.intent == f.intent)

    def as_dict(self) -> dict[str, Any]:
        """The wire form (docs/control-protocol.md, ``decision_log``)."""
        return decision_row(self.first) | {
            "repeat": self.repeat, "last_tick": self.last.tick, "last_ts_ms": self.last.ts_ms,
        }


class DecisionWindow:
    """The decisions a snapshot carries, kept by the daemon as it decides.

    ``recent``: the last ``RECENT_DECISIONS`` decisions (WAITs too; a sequence, so the
    daemon appends and reads ``[-1]`` as from a deque). ``log``: the orders and refusals
    (never WAITs) of the current and the previous game, a run of identical refusals
    merged into one row — so a TUI that attaches mid-game shows the whole game so far,
    not only the last seconds of WAITs.
    """

    def __init__(self, recent: int = RECENT_DECISIONS, log_rows: int = LOG_ROWS) -> None:
        self.recent: deque[LastDecision] = deque(maxlen=recent)
        self.log: deque[LogRow] = deque(maxlen=log_rows)
        self._games: deque[str] = deque(maxlen=LOG_GAMES)

    @classmethod
    def of(cls, decisions: Iterable[LastDecision]) -> DecisionWindow:
        """A window filled with ``decisions`` (oldest first)."""
        window = cls()
        for d in decisions:
            window.append(d)
        return window

    def append(self, d: LastDecision) -> None:
        """Take the core's latest decision."""
        self.recent.append(d)
        if d.verdict == "none":
            return
        if d.game_id not in self._games:
            self._games.append(d.game_id)
            games = set(self._games)
            kept = [row for row in self.log if row.first.game_id in games]
            if len(kept) != len(self.log):
                self.log = deque(kept, maxlen=self.log.maxlen)
        if self.log and self.log[-1].absorbs(d):
            row = self.log[-1]
            row.last, row.repeat = d, row.repeat + 1
        else:
            self.log.append(LogRow(d, d))

    def __len__(self) -> int:
        return len(self.recent)

    def __getitem__(self, index: int) -> LastDecision:
        return self.recent[index]

    def __iter__(self) -> Iterator[LastDecision]:
        return iter(self.recent)


def model_block(core: DecisionCore) -> dict[str, Any]:
    """The models' outputs OF the latest decision, with that decision: a decision the
    models did not make (a flatten, a rule, the cooldown) shows no outputs rather than
    the outputs of an earlier tick."""
    last = core.last_decision
    outputs = last.outputs if last is not None else None
    probs = outputs.action_probs if outputs is not None else None
    return {
        "action_names": list(ACTION_NAMES),
        "action_probs": list(probs) if probs else None,
        "p_rug": outputs.p_rug if outputs is not None else None,
        "action_index": outputs.action_index if outputs is not None else None,
        "non_finite": core.stats["held_non_finite"],
        "fallbacks": getattr(core.strategy, "decide_fallback_count", 0),
        "decision": decision_row(last) if last is not None else None,
    }


def build_snapshot(
    core: DecisionCore,
    *,
    seq: int,
    now_ms: int,
    daemon: dict[str, Any],
    feed: dict[str, Any],
    execution: dict[str, Any],
    decisions: DecisionWindow | Iterable[LastDecision],
    kill_latched: bool,
    audit_pending: int = 0,
) -> dict[str, Any]:
    """The full snapshot dict streamed to control-plane subscribers."""
    view = core.view
    prices = list(view.prices[max(0, view.tick + 1 - MAX_PRICES): view.tick + 1])
    first_tick = max(0, view.tick + 1 - len(prices))
    risk = core.risk
    window = decisions if isinstance(decisions, DecisionWindow) else DecisionWindow.of(decisions)
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
        "model": model_block(core),
        "risk": {
            "state": risk.trading_state.value.upper(),
            "kill_latched": kill_latched or risk.killed,
            "kill_reason": risk.kill_reason.value if risk.kill_reason else None,
            "faults": fault_counts(core.stats),
            "flags": {
                "operator_paused": risk.operator_paused,
                "feed_stale": risk.feed_stale,
                "exec_errors": risk.exec_errors,
                "venue_integrity": risk.venue_halted,
            },
            "limits": limits_block(core),
        },
        "decisions": [decision_row(d) for d in window.recent],
        "decision_log": [row.as_dict() for row in window.log],
        "feed": feed,
        "execution": execution,
        "audit": core.audit_book.summary(audit_pending),
    }
