"""Drive the decision core from recordings (ours or the real ones) and journal it.

Synchronous and as fast as the core allows. The run id is derived from the inputs and
the strategy, so replaying the same recording twice gives the same decision log — its
SHA-256 is part of the summary (``decision_log_sha256``), and ``decision_log`` can write
it out as JSON lines.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rugsd.daemon.audit.check import audit_game
from rugsd.daemon.audit.model import AuditVerdict
from rugsd.daemon.config import Settings
from rugsd.daemon.feed.replay import ReplayError, ReplaySource
from rugsd.daemon.game.accounting import lamports_to_sol
from rugsd.daemon.journal import open_journal
from rugsd.daemon.journal.records import DecisionRecord, Mode
from rugsd.daemon.runtime.build import make_core, run_started, stable_id


class NothingToReplay(Exception):
    """No path could be read, or they held no usable event."""


@dataclass
class ReplaySummary:
    """What a replay did; printed by ``rugsd replay``."""

    run_id: str
    files: int = 0
    lines: int = 0
    events: int = 0
    malformed: int = 0
    skipped: int = 0
    decisions: int = 0
    orders: int = 0
    fills: int = 0
    games: int = 0
    pnl_sol: float = 0.0
    final_balance_sol: float = 0.0
    trading_state: str = ""
    decision_log_sha256: str = ""
    stats: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return dict(self.__dict__)


def decision_line(record: DecisionRecord) -> str:
    """One deterministic JSON line of the decision log."""
    data = {
        name: (value.hex() if isinstance(value, bytes) else value)
        for name, value in zip(record.__slots__, (getattr(record, s) for s in record.__slots__),
                               strict=True)
    }
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def replay(
    paths: Sequence[str | Path],
    settings: Settings,
    data_dir: Path,
    *,
    decision_log: Path | None = None,
    journal: bool = True,
) -> ReplaySummary:
    """Replay ``paths`` through the core in paper mode; journal and summarise."""
    try:
        sources = [ReplaySource(p) for p in paths]
    except ReplayError as err:  # a missing path, a folder without recordings
        raise NothingToReplay(str(err)) from None
    strategy_name = settings.strategy.name
    run_id = "replay-" + stable_id(*[Path(p).resolve() for p in paths], strategy_name)
    core = make_core(settings, run_id=run_id, order_prefix=run_id)
    start_equity = core.account.balance
    store = open_journal(data_dir, settings) if journal else None
    digest = hashlib.sha256()
    log_file = decision_log.open("w") if decision_log is not None else None
    summary = ReplaySummary(run_id=run_id)
    first = True
    try:
        for source in sources:
            for event in source.iter_events():
                if first and store is not None:
                    store.write(run_started(settings, core, Mode.REPLAY.value, event.ts_ms))
                first = False
                out = core.step(event)
                for request in out.audits:  # as the daemon does, but inline (event time)
                    out.records.extend(core.step(AuditVerdict(event.ts_ms,
                                                              audit_game(request))).records)
                summary.orders += len(out.orders)
                for record in out.records:
                    if isinstance(record, DecisionRecord):
                        line = decision_line(record)
                        digest.update(line.encode())
                        digest.update(b"\n")
                        if log_file is not None:
                            log_file.write(line + "\n")
                if store is not None:
                    store.write_many(out.records)
            stats = source.stats.summary()
            for key in ("files", "lines", "events", "malformed", "skipped"):
                setattr(summary, key, getattr(summary, key) + int(stats.get(key, 0)))
    finally:
        if log_file is not None:
            log_file.close()
        if store is not None:
            store.close()
    if summary.events == 0:
        raise NothingToReplay(f"no usable event in {', '.join(map(str, paths))}")
    summary.decisions = core.stats["decisions"]
    summary.fills = core.stats["fills"]
    summary.games = core.machine.stats().get("games_finished", 0) if hasattr(
        core.machine, "stats") else 0
    summary.pnl_sol = lamports_to_sol(core.account.balance - start_equity)
    summary.final_balance_sol = lamports_to_sol(core.account.balance)
    summary.trading_state = core.trading_state.value
    summary.decision_log_sha256 = digest.hexdigest()
    summary.stats = dict(core.stats)
    return summary
