"""The daemon's per-step housekeeping: metrics from each step's records, and what is done
once per cooldown (journal compaction, the executors' between-games work, picking up a
newly promoted bundle or a requested model reload).

Plain functions over the running daemon (the ``Shell`` protocol), kept out of
``daemon.py`` so each file has one job.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from rugsd.daemon.events import GameUpdate, Phase
from rugsd.daemon.journal.records import (
    DecisionRecord,
    FillRecord,
    OrderRecord,
    OrderStatus,
    TickRecord,
)
from rugsd.daemon.runtime.startup import now_ms
from rugsd.strategy.registry import build_strategy

if TYPE_CHECKING:
    from rugsd.daemon.runtime.shell import Shell

log = structlog.get_logger(__name__)


def observe(d: Shell, event: Any, records: list[Any], elapsed_ns: int) -> None:
    """Prometheus counters from one step's records; between-games housekeeping."""
    m = d.metrics
    for record in records:
        if isinstance(record, TickRecord):
            m.ticks_total.inc()
        elif isinstance(record, DecisionRecord):
            m.observe_decision(record.verdict, record.reason, elapsed_ns / 1e9)
        elif isinstance(record, FillRecord):
            m.fills_total.labels(kind=record.kind).inc()
        elif isinstance(record, OrderRecord) and record.status == OrderStatus.SENT.value:
            m.orders_total.labels(action=record.action).inc()
    m.set_trading_state(d.core.trading_state.value, d.core.risk.killed)
    if d.feed is not None:
        health = d.feed.health_snapshot()
        m.feed_stale.set(1 if health.stale else 0)
        new = health.reconnects - d.reconnects_seen
        if new > 0:
            m.feed_reconnects_total.inc(new)
            d.reconnects_seen = health.reconnects
    if isinstance(event, GameUpdate):
        between_games(d, event)


def between_games(d: Shell, event: GameUpdate) -> None:
    """Cooldown: reconcile with the simulator, pick up a newly promoted bundle, and
    compact the journal (a bounded slice per event of the settlement, when no
    decision is due)."""
    view = d.core.view
    if view.phase is Phase.COOLDOWN and d.compactor is not None:
        d.compactor.run(d.settings.journal.compact_budget_ms, now_ms())
    if view.phase is not Phase.COOLDOWN or d.bundle_checked_game == view.game_id:
        return
    d.bundle_checked_game = view.game_id
    for ex in d.executors:
        ex.between_games()
    if d.reload_requested or bundle_changed(d):
        reload_strategy(d)


def bundle_changed(d: Shell) -> bool:
    """A newer bundle was promoted to ``models_dir/current`` than the one loaded."""
    if d.settings.strategy.name != "onnx":
        return False
    from rugsd.strategy.bundle import resolve_current

    try:
        current = resolve_current(d.settings.strategy.models_dir)
    except Exception:  # noqa: BLE001 - a broken pointer keeps the loaded bundle
        return False
    loaded = getattr(getattr(d.core.strategy, "bundle", None), "path", None)
    return current is not None and loaded is not None and Path(current) != Path(loaded)


def reload_strategy(d: Shell) -> str:
    """Rebuild the strategy from the config (a failure keeps the loaded one)."""
    d.reload_requested = False
    try:
        d.core.strategy = build_strategy(d.settings)
    except Exception as err:  # noqa: BLE001 - keep trading with the loaded strategy
        log.error("model reload failed; keeping the loaded strategy", error=str(err))
        return f"reload failed: {err}"
    log.info("strategy reloaded", strategy=d.core.strategy.name)
    return "reloaded"
