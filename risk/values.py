"""The risk layer's value types: limits in lamports and the session's equity figures.

A leaf module (it imports no other ``rugsd.risk`` module): the risk states, the gate's
context and the rules all read these types, and none of them is read back here.
Money is integer lamports throughout (``rugsd.daemon.game.accounting``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rugsd.daemon.config import DEFAULT_PROTECTIONS, RiskConfig
from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import sol_to_lamports

__all__ = ["DAY_MS", "DEFAULT_PROTECTIONS", "RiskLimits", "SessionFigures"]

DAY_MS = 86_400_000


_PHASES = {"presale": Phase.PRESALE, "active": Phase.ACTIVE}


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """``Settings.risk`` converted once to lamports and enums."""

    max_bet: int
    max_position: int
    max_exposure: int
    min_balance_reserve: int
    max_orders_per_minute: int
    max_sidebets_per_game: int
    max_daily_loss: int
    max_drawdown: int
    entry_phases: frozenset[Phase]
    entry_min_tick: int
    entry_max_tick: int
    max_execution_errors: int
    presale_cutoff_ms: int = 0
    protections: tuple[str, ...] = DEFAULT_PROTECTIONS  # rugsd.risk.rules, after REQUIRED
    rule_params: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()  # [risk.<rule>]

    def params(self, rule: str) -> dict[str, Any]:
        """The ``[risk.<rule>]`` section of a rule of your own ({} when absent)."""
        return dict(dict(self.rule_params).get(rule, ()))

    @classmethod
    def from_config(cls, cfg: RiskConfig) -> RiskLimits:
        """Convert the configured SOL limits to lamports."""
        return cls(
            max_bet=sol_to_lamports(cfg.max_bet_sol),
            max_position=sol_to_lamports(cfg.max_position_sol),
            max_exposure=sol_to_lamports(cfg.max_exposure_sol),
            min_balance_reserve=sol_to_lamports(cfg.min_balance_reserve_sol),
            max_orders_per_minute=cfg.max_orders_per_minute,
            max_sidebets_per_game=cfg.max_sidebets_per_game,
            max_daily_loss=sol_to_lamports(cfg.max_daily_loss_sol),
            max_drawdown=sol_to_lamports(cfg.max_drawdown_sol),
            entry_phases=frozenset(_PHASES[p] for p in cfg.entry_phases),
            entry_min_tick=cfg.entry_min_tick,
            entry_max_tick=cfg.entry_max_tick,
            max_execution_errors=cfg.max_execution_errors,
            presale_cutoff_ms=cfg.presale_cutoff_ms,
            protections=tuple(cfg.protections),
            rule_params=tuple((name, tuple(sorted(section.items())))
                              for name, section in sorted(cfg.sections().items())),
        )


@dataclass(frozen=True, slots=True)
class SessionFigures:
    """Equity figures (lamports) for the loss limits.

    ``equity`` is ``accounting.equity(account, price)``: cash plus the position marked at
    the current price (an open sidebet's stake is already spent). ``day`` is the UTC day
    index (``ts_ms // DAY_MS``) that ``day_start_equity`` belongs to. Deposits are not
    told apart from gains (none happen while the daemon trades).
    """

    start_equity: int
    peak_equity: int
    day_start_equity: int
    equity: int
    day: int

    @classmethod
    def start(cls, equity: int, ts_ms: int) -> SessionFigures:
        """Figures at the start of a session."""
        return cls(equity, equity, equity, equity, ts_ms // DAY_MS)

    def observe(self, equity: int, ts_ms: int) -> SessionFigures:
        """New equity at ``ts_ms``: raise the peak, roll the day at UTC midnight.

        A new day starts from the last equity seen before midnight.
        """
        day = ts_ms // DAY_MS
        day_start = self.equity if day > self.day else self.day_start_equity
        return SessionFigures(
            self.start_equity, max(self.peak_equity, equity), day_start, equity, max(day, self.day)
        )

    @property
    def daily_loss(self) -> int:
        """Lamports lost since the day started (negative when up)."""
        return self.day_start_equity - self.equity

    @property
    def drawdown(self) -> int:
        """Lamports below the session peak (>= 0)."""
        return self.peak_equity - self.equity
