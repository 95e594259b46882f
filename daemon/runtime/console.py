"""What the daemon tells its operator's terminal: one line per order and fill, one summary
line per game (refusals counted by reason, never one line per tick), a start banner.

Fed by the records the daemon has just journaled (``Daemon._observe``): every figure
shown is a field of a journaled record (or a sum of them), never a parallel
calculation. ``human`` renders rich lines (SOL with fixed decimals, local times);
``json`` emits the same facts as structlog JSON lines (lamports, exact).
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from rich.markup import escape

from rugsd.daemon.journal.records import (
    DecisionRecord,
    FillRecord,
    GameRecord,
    KillEvent,
    OrderRecord,
    OrderStatus,
    PositionSnapshot,
    RiskEvent,
    Verdict,
)

log = structlog.get_logger("rugsd.trading")

LAMPORTS_PER_SOL = 1_000_000_000
SOL_DIGITS = 4


def sol(lamports: int | None, signed: bool = False) -> str:
    """Lamports as SOL text with fixed decimals (``-`` when unknown)."""
    if lamports is None:
        return "-"
    value = lamports / LAMPORTS_PER_SOL
    return f"{value:+.{SOL_DIGITS}f}" if signed else f"{value:.{SOL_DIGITS}f}"


def local_time(ts_ms: int) -> str:
    """``HH:MM:SS`` in the machine's local time zone."""
    return datetime.fromtimestamp(ts_ms / 1000).strftime("%H:%M:%S")


def resolve_format(fmt: str, stream: Any) -> str:
    """``human`` or ``json``: ``auto`` is human on a terminal, JSON otherwise."""
    if fmt in ("human", "console"):
        return "human"
    if fmt == "json":
        return "json"
    return "human" if getattr(stream, "isatty", lambda: False)() else "json"


@dataclass
class _Game:
    """What the records of one game added up to so far."""

    orders: int = 0
    trades: int = 0  # fills an order caused (buys, sells, sidebet placements)
    pnl: int = 0  # sum of the fills' ``realised``
    refused: Counter = field(default_factory=Counter)


class TradeConsole:
    """Turns journaled records into operator lines (``human``) or JSON events."""

    def __init__(self, fmt: str = "auto", stream: Any = None, balance: int | None = None,
                 state: str = "ACTIVE") -> None:
        self._stream = stream
        self.fmt = resolve_format(fmt, self.stream)
        self.balance = balance
        self.state = state.upper()
        self.games: dict[str, _Game] = {}
        self.summarised: dict[str, None] = {}  # insertion-ordered, bounded
        self._console = None

    @property
    def stream(self) -> Any:
        return self._stream if self._stream is not None else sys.stderr

    # -- output ---------------------------------------------------------------------------

    def _print(self, text: str) -> None:
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self.stream, highlight=False, soft_wrap=True)
        self._console.print(text)

    def banner(self, info: dict[str, Any]) -> None:
        """The start banner: mode, feed, strategy and bundle, limits, data dir, how to stop."""
        if self.fmt == "json":
            log.info("banner", **info)
            return
        lim = info.get("limits", {})
        limits = ", ".join(f"{k.replace('_', ' ')} {v:.4f}" for k, v in lim.items())
        self._print(
            f"[bold]rugsd[/] {info['mode'].upper()} ({info['executor']}) — "
            f"state [bold]{info['state'].upper()}[/], balance {sol(info.get('balance'))} SOL\n"
            f"  feed      {info['feed']}\n"
            f"  strategy  {info['strategy']} (bundle {info['bundle']})\n"
            f"  limits    {limits} (SOL)\n"
            f"  data dir  {info['data_dir']}\n"
            f"  stop      Ctrl-C (sells an open position first); kill: rugsd kill "
            f"--data-dir {info['data_dir']}"
        )

    def records(self, records: list[Any]) -> None:
        """One step's journaled records, in journal order."""
        for record in records:
            if isinstance(record, DecisionRecord):
                if record.verdict == Verdict.REFUSED.value:
                    self._game(record.game_id).refused[record.reason] += 1
            elif isinstance(record, OrderRecord):
                self._order(record)
            elif isinstance(record, FillRecord):
                self._fill(record)
            elif isinstance(record, PositionSnapshot):
                self.balance = record.balance
            elif isinstance(record, GameRecord):
                self._game_over(record)
            elif isinstance(record, RiskEvent):
                self._state(record)
            elif isinstance(record, KillEvent):
                self._kill(record)

    def _game(self, game_id: str) -> _Game:
        game = self.games.get(game_id)
        if game is None:
            game = self.games[game_id] = _Game()
            if len(self.games) > 64:  # only the last games can still get records
                self.games.pop(next(iter(self.games)))
        return game

    def _order(self, r: OrderRecord) -> None:
        if r.status == OrderStatus.SENT.value:
            self._game(r.game_id).orders += 1
        elif r.status == OrderStatus.FILLED.value and self.fmt == "human":
            return  # its fill line says it
        size = f"{r.percentage} %" if r.action == "sell" else f"{sol(r.amount)} SOL"
        if self.fmt == "json":
            log.info("order", order_id=r.order_id, game_id=r.game_id, tick=r.tick,
                     action=r.action, amount_lamports=r.amount, percentage=r.percentage,
                     status=r.status, detail=r.detail, ts_ms=r.ts_ms)
            return
        style = "" if r.status in ("sent", "filled") else "yellow"
        detail = f" — {escape(r.detail)}" if r.detail else ""
        open_, close = (f"[{style}]", "[/]") if style else ("", "")
        self._print(f"{local_time(r.ts_ms)}  {open_}order {r.status:<8} {r.action:<8} "
                    f"{size:>13}  game {r.game_id} tick {r.tick}{detail}{close}")

    def _fill(self, r: FillRecord) -> None:
        game = self._game(r.game_id)
        game.pnl += r.realised
        if r.order_id is not None:
            game.trades += 1
        self.balance = r.balance_after
        if self.fmt == "json":
            log.info("fill", order_id=r.order_id, game_id=r.game_id, tick=r.tick,
                     kind=r.kind, price=r.price, amount_lamports=r.amount,
                     realised_lamports=r.realised, balance_lamports=r.balance_after,
                     ts_ms=r.ts_ms)
            return
        colour = "green" if r.realised > 0 else "red" if r.realised < 0 else "default"
        self._print(f"{local_time(r.ts_ms)}  fill  {r.kind:<13} {sol(r.amount):>9} SOL "
                    f"@ {r.price:.4f}x  P&L [{colour}]{sol(r.realised, True)}[/] "
                    f"balance {sol(r.balance_after)} SOL  game {r.game_id} tick {r.tick}")

    def _game_over(self, r: GameRecord) -> None:
        if r.game_id in self.summarised:  # the seed's reveal journals the game again
            return
        self.summarised[r.game_id] = None
        if len(self.summarised) > 256:
            self.summarised.pop(next(iter(self.summarised)))
        game = self.games.pop(r.game_id, None) or _Game()
        refused = dict(game.refused.most_common())
        if self.fmt == "json":
            log.info("game", game_id=r.game_id, rug_tick=r.rug_tick, peak=r.peak,
                     orders=game.orders, trades=game.trades, pnl_lamports=game.pnl,
                     balance_lamports=self.balance, state=self.state, refused=refused,
                     ts_ms=r.ended_ts_ms)
            return
        colour = "green" if game.pnl > 0 else "red" if game.pnl < 0 else "default"
        why = ", ".join(f"{k} {n}" for k, n in refused.items())
        refusals = f"  refused {sum(refused.values())} ({why})" if refused else ""
        self._print(
            f"{local_time(r.ended_ts_ms)}  [bold]game {r.game_id}[/] rugged at tick "
            f"{r.rug_tick}, peak {r.peak:.2f}x  trades {game.trades}  P&L "
            f"[{colour}]{sol(game.pnl, True)}[/] SOL  balance {sol(self.balance)} SOL  "
            f"{self.state}{refusals}"
        )

    def _state(self, r: RiskEvent) -> None:
        self.state = r.new_state.upper()
        if self.fmt == "json":
            log.info("state", old=r.old_state, new=r.new_state, reason=r.reason,
                     detail=r.detail, ts_ms=r.ts_ms)
            return
        colour = "red" if r.new_state in ("KILLED", "HALTED") else "yellow"
        detail = f" — {escape(r.detail)}" if r.detail else ""
        self._print(f"{local_time(r.ts_ms)}  [{colour}]state {r.old_state.upper()} → {r.new_state.upper()}[/]"
                    f" ({r.reason}){detail}")

    def _kill(self, r: KillEvent) -> None:
        if self.fmt == "json":
            log.info("kill", source=r.source, reason=r.reason, ts_ms=r.ts_ms)
            return
        self._print(f"{local_time(r.ts_ms)}  [bold red]KILL[/] by {r.source}: {escape(r.reason)} "
                    "(no new orders; the daemon keeps running; rugsd arm to re-arm)")


def banner_info(daemon: Any) -> dict[str, Any]:
    """The banner's facts from a started ``Daemon`` (its settings, core and venue)."""
    from rugsd.daemon.runtime.build import bundle_version

    risk = daemon.settings.risk
    return {
        "mode": daemon.mode,
        "executor": daemon.executor_kind,
        "feed": daemon.venue.url if daemon.venue is not None else daemon.feed_url,
        "strategy": daemon.core.strategy.name,
        "bundle": bundle_version(daemon.core.strategy) or "-",
        "limits": {
            "max_bet": risk.max_bet_sol,
            "max_position": risk.max_position_sol,
            "daily_loss": risk.max_daily_loss_sol,
            "drawdown": risk.max_drawdown_sol,
        },
        "data_dir": str(daemon.paths.data_dir),
        "state": daemon.core.trading_state.value,
        "balance": daemon.core.account.balance,
        "run_id": daemon.run_id,
    }
