"""The policy's discrete action table and its validity mask.

Index → meaning (names are written into bundle manifests and checked at load):

    0 wait · 1 buy_small · 2 buy_medium · 3 buy_large (``strategy.buy_sizes_sol``)
    4 sell_25 · 5 sell_50 · 6 sell_100 (percent of the position)
    7 sidebet (``strategy.sidebet_sol``)

The mask encodes the venue's rules only (risk limits are the risk gate's job): WAIT is
always valid; buys in presale/active with enough balance; sells only while active and
holding enough to sell a non-zero quantity; a sidebet in presale/active when
``accounting.can_place_sidebet`` allows it and the balance covers the stake.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rugsd.daemon.config import StrategyConfig
from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import (
    MIN_BET_LAMPORTS,
    Account,
    can_place_sidebet,
    sol_to_lamports,
)
from rugsd.daemon.state.view import GameView
from rugsd.strategy.intents import Action, Intent

ACTION_NAMES: tuple[str, ...] = (
    "wait",
    "buy_small",
    "buy_medium",
    "buy_large",
    "sell_25",
    "sell_50",
    "sell_100",
    "sidebet",
)
N_ACTIONS = len(ACTION_NAMES)
WAIT_INDEX = 0
BUY_INDICES: tuple[int, ...] = (1, 2, 3)
SELL_INDICES: tuple[int, ...] = (4, 5, 6)
SELL_PERCENTS: tuple[int, ...] = (25, 50, 100)
SIDEBET_INDEX = 7

_ENTRY_PHASES = (Phase.PRESALE, Phase.ACTIVE)


@dataclass(frozen=True, slots=True)
class ActionTable:
    """The action table with concrete amounts (lamports) and prebuilt intents."""

    buy_lamports: tuple[int, int, int]
    sidebet_lamports: int
    intents: tuple[Intent, ...]

    @classmethod
    def from_config(cls, cfg: StrategyConfig, source: str = "policy") -> ActionTable:
        """Build from ``Settings.strategy``; ``buy_sizes_sol`` must hold exactly 3 sizes."""
        if len(cfg.buy_sizes_sol) != len(BUY_INDICES):
            raise ValueError(
                f"strategy.buy_sizes_sol must hold {len(BUY_INDICES)} sizes "
                f"(small, medium, large), got {cfg.buy_sizes_sol}"
            )
        buys = tuple(sol_to_lamports(s) for s in cfg.buy_sizes_sol)
        side = sol_to_lamports(cfg.sidebet_sol)
        intents = [Intent(Action.WAIT, source=f"{source}:wait")]
        for name, lam in zip(ACTION_NAMES[1:4], buys, strict=True):
            intents.append(Intent(Action.BUY, amount=lam, source=f"{source}:{name}"))
        for name, pct in zip(ACTION_NAMES[4:7], SELL_PERCENTS, strict=True):
            intents.append(Intent(Action.SELL, percentage=pct, source=f"{source}:{name}"))
        intents.append(Intent(Action.SIDEBET, amount=side, source=f"{source}:sidebet"))
        return cls(buys, side, tuple(intents))  # type: ignore[arg-type]

    def intent_for(self, action_index: int) -> Intent:
        """The intent of ``action_index`` (IndexError outside 0..N_ACTIONS-1)."""
        if not 0 <= action_index < N_ACTIONS:
            raise IndexError(f"action index {action_index} outside 0..{N_ACTIONS - 1}")
        return self.intents[action_index]


_DEFAULT: ActionTable | None = None


def default_table() -> ActionTable:
    """The table for the default ``StrategyConfig`` (no config file read)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = ActionTable.from_config(StrategyConfig())
    return _DEFAULT


def intent_for(action_index: int, table: ActionTable | None = None) -> Intent:
    """The intent for a policy action index (default sizes unless ``table`` is given)."""
    return (table or default_table()).intent_for(action_index)


def mask_values(view: GameView, account: Account, table: ActionTable) -> list[bool]:
    """Venue validity of every action, as a plain list (the hot path's form)."""
    phase = view.phase
    entry = phase in _ENTRY_PHASES
    bal = account.balance
    valid = [True]
    for lam in table.buy_lamports:
        valid.append(entry and MIN_BET_LAMPORTS <= lam <= bal)
    qty = account.qty
    can_sell = phase == Phase.ACTIVE and qty > 0
    for pct in SELL_PERCENTS:
        valid.append(can_sell and qty * pct // 100 > 0)
    side = table.sidebet_lamports
    valid.append(
        entry and MIN_BET_LAMPORTS <= side <= bal and can_place_sidebet(account, view.tick)
    )
    return valid


def action_mask(
    view: GameView,
    account: Account,
    table: ActionTable | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean validity mask [N_ACTIONS] (into ``out`` when given)."""
    values = mask_values(view, account, table or default_table())
    if out is None:
        return np.array(values, dtype=bool)
    out[:] = values
    return out
