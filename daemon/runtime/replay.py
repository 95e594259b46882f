"""Drive the decision core from an event stream: the one path replays and evaluations take.

``play(core, events)`` feeds a core every event, folds its records into per-game facts
(``rugsd.daemon.journal.games``) and hashes its decision log; ``replay`` (``rugsd
replay``) does it on recordings with the daemon's configuration and journals it, and
``rugsd evaluate`` and ``rugsd retrain``'s held-out evaluation call the same ``play``
with the same configuration — so their per-game P&L, refusals and exits are the
replay's, decision for decision (same run id → same decision-log SHA-256).

Synchronous and as fast as the core allows. The run id is derived from the inputs and
the strategy, so replaying the same recording twice gives the same decision log — its
SHA-256 is part of the summary (``decision_log_sha256``), and ``decision_log`` can write
it out as JSON lines.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rugsd.daemon.audit.check import audit_game
from rugsd.daemon.audit.model import AuditVerdict
from rugsd.daemon.config import Settings
from rugsd.daemon.core.decision import DecisionCore
from rugsd.daemon.feed.replay import ReplayError, ReplaySource
from rugsd.daemon.game.accounting import lamports_to_sol
from rugsd.daemon.journal import open_journal
from rugsd.daemon.journal.decision_log import decision_line
from rugsd.daemon.journal.games import GameTally, summarise_games
from rugsd.daemon.journal.records import DecisionRecord, Mode
from rugsd.daemon.runtime.build import make_core, run_started, stable_id
from rugsd.strategy.base import Strategy
from rugsd.strategy.registry import build_strategy


class NothingToReplay(Exception):
    """No path could be read, or they held no usable event."""


@dataclass
class Played:
    """What ``play`` did: the core's per-game facts and its decision-log hash."""

    core: DecisionCore
    tally: GameTally
    start_balance: int
    events: int = 0
    orders: int = 0
    decision_log_sha256: str = ""

    def figures(self) -> dict[str, Any]:
        """P&L, game counts, refusals, exits and orders (``summarise_games``), in SOL."""
        out = summarise_games(self.tally.games.values())
        out["pnl_total"] = lamports_to_sol(out.pop("pnl_total_lamports"))
        return out

    def per_game(self) -> list[dict[str, Any]]:
        """One row per played game: id, class, P&L (SOL), exit."""
        return [{"game_id": g.game_id, "class": g.klass.value, "pnl": lamports_to_sol(g.pnl),
                 "exit": g.exit} for g in self.tally.played()]


def play(
    core: DecisionCore,
    events: Iterable[object],
    *,
    write: Callable[[list], None] | None = None,
    on_first: Callable[[int], None] | None = None,
    decision_log: IO[str] | None = None,
) -> Played:
    """Feed ``events`` to ``core``; tally its records per game and hash its decisions.

    ``write`` receives each step's records (the journal), ``on_first`` the first event's
    time (to journal the run's start), ``decision_log`` the decision lines.
    """
    digest = hashlib.sha256()
    tally = GameTally()
    result = Played(core, tally, core.account.balance)
    step, add = core.step, tally.add
    for event in events:
        if result.events == 0 and on_first is not None:
            on_first(event.ts_ms)  # type: ignore[attr-defined]
        result.events += 1
        out = step(event)
        records = out.records
        for request in out.audits:  # the venue audit, as the daemon runs it but inline
            records.extend(step(AuditVerdict(event.ts_ms,  # type: ignore[attr-defined]
                                             audit_game(request))).records)
        if out.orders:
            result.orders += len(out.orders)
        if records:
            add(records)
            for record in records:
                if type(record) is DecisionRecord:
                    line = decision_line(record) + "\n"
                    digest.update(line.encode())
                    if decision_log is not None:
                        decision_log.write(line)
            if write is not None:
                write(records)
    result.decision_log_sha256 = digest.hexdigest()
    return result


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
    games: int = 0  # played games (complete + incomplete)
    game_counts: dict[str, int] = field(default_factory=dict)
    pnl_sol: float = 0.0  # realised P&L, the sum over games (= ``rugsd report``'s)
    final_balance_sol: float = 0.0
    open_position: bool = False  # a position still open when the recordings end
    trading_state: str = ""
    decision_log_sha256: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    per_game: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return dict(self.__dict__)


def replay_run_id(paths: Sequence[str | Path], strategy_name: str) -> str:
    """The run id of replaying ``paths`` with a strategy (the same in ``rugsd evaluate``)."""
    return "replay-" + stable_id(*[Path(p).resolve() for p in paths], strategy_name)


def sources_of(paths: Sequence[str | Path]) -> list[ReplaySource]:
    """Replay sources for ``paths`` (raises ``NothingToReplay`` with one line)."""
    try:
        return [ReplaySource(p) for p in paths]
    except ReplayError as err:  # a missing path, a folder without recordings
        raise NothingToReplay(str(err)) from None


def recorded_events(sources: Sequence[ReplaySource],
                    on_source: Callable[[int], None] | None = None) -> Iterable[object]:
    """Every event of ``sources``, in order (one continuous session); ``on_source``
    gets the number of recording files started so far (a progress bar)."""
    if on_source is None:
        for source in sources:
            yield from source.iter_events()
        return
    files, current = 0, None
    for source in sources:
        for name, event in source.iter_with_source():
            if name != current:
                current, files = name, files + 1
                on_source(files - 1)
            yield event
    on_source(files)


def replay_paths(
    paths: Sequence[str | Path],
    settings: Settings,
    *,
    strategy: Strategy | None = None,
    strategy_name: str | None = None,
    starting_balance_sol: float | None = None,
    write: Callable[[list], None] | None = None,
    on_first: Callable[[DecisionCore, int], None] | None = None,
    decision_log: IO[str] | None = None,
    on_source: Callable[[int], None] | None = None,
) -> tuple[Played, list[ReplaySource]]:
    """Replay ``paths`` through a core built from ``settings`` (paper fills).

    ``strategy`` overrides the configured one (``strategy_name`` names it in the run id);
    ``starting_balance_sol`` overrides ``paper.starting_balance_sol``.
    """
    sources = sources_of(paths)
    name = strategy_name or (strategy.name if strategy is not None else settings.strategy.name)
    run_id = replay_run_id(paths, name)
    if starting_balance_sol is not None:
        settings = settings.model_copy(deep=True)
        settings.paper.starting_balance_sol = starting_balance_sol
    core = make_core(settings, run_id=run_id, order_prefix=run_id, strategy=strategy)
    first = (lambda ts: on_first(core, ts)) if on_first is not None else None
    played = play(core, recorded_events(sources, on_source), write=write, on_first=first,
                  decision_log=decision_log)
    return played, sources


def replay(
    paths: Sequence[str | Path],
    settings: Settings,
    data_dir: Path,
    *,
    decision_log: Path | None = None,
    journal: bool = True,
    on_source: Callable[[int], None] | None = None,
) -> ReplaySummary:
    """Replay ``paths`` through the core in paper mode; journal and summarise
    (``on_source``: files read so far, for a progress bar)."""
    sources_of(paths)  # refuse a missing path or an unusable strategy before any file is made
    strategy = build_strategy(settings)
    store = open_journal(data_dir, settings) if journal else None
    log_file = decision_log.open("w") if decision_log is not None else None

    def started(core: DecisionCore, ts_ms: int) -> None:
        if store is not None:
            store.write(run_started(settings, core, Mode.REPLAY.value, ts_ms))

    try:
        played, sources = replay_paths(
            paths, settings, strategy=strategy, strategy_name=settings.strategy.name,
            write=store.write_many if store is not None else None, on_first=started,
            decision_log=log_file, on_source=on_source)
    finally:
        if log_file is not None:
            log_file.close()
        if store is not None:
            store.close()
    core = played.core
    summary = ReplaySummary(run_id=core.cfg.run_id)
    for source in sources:
        stats = source.stats.summary()
        for key in ("files", "lines", "events", "malformed", "skipped"):
            setattr(summary, key, getattr(summary, key) + int(stats.get(key, 0)))
    if summary.events == 0:
        raise NothingToReplay(f"no usable event in {', '.join(map(str, paths))}")
    figures = played.figures()
    summary.decisions = core.stats["decisions"]
    summary.orders = played.orders
    summary.fills = core.stats["fills"]
    summary.game_counts = figures["games"]
    summary.games = figures["games"]["played"]
    summary.pnl_sol = figures["pnl_total"]
    summary.final_balance_sol = lamports_to_sol(core.account.balance)
    summary.open_position = bool(core.account.qty or core.account.sidebet is not None)
    summary.trading_state = core.trading_state.value
    summary.decision_log_sha256 = played.decision_log_sha256
    summary.figures = figures
    summary.per_game = played.per_game()
    summary.stats = dict(core.stats)
    return summary
