"""Player accounts of the simulator: identity, order parsing, and the per-player payloads.

A player's money is a ``rugsd.daemon.game.accounting.Account`` (integer lamports / nano-tokens);
this module only wraps it with a name, the per-game statistics the leaderboard shows and
the queue of orders waiting for the next tick.

``playerUpdate`` (sent to the player's own connections after every change to its account;
the real shape is not in the captures, so this one is our choice, mirroring
``rugsd.daemon.events.PlayerUpdate``)::

    {"playerId": "sim:<name>", "gameId": str, "username": str,
     "cash": SOL float (balance), "positionQty": token float (qty / 1e9),
     "avgCost": price (cost / qty, 0 when flat), "totalInvested": SOL float (cost of the
     open position), "pnl": SOL float (realised P&L of the account, sidebets included),
     "sidebet": null | {"startTick", "endTick", "betAmount" (SOL), "xPayout"}}

The exact integers are served by ``GET /ledger/<player>`` (``ledger_dict``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

from rugsd.daemon.game.accounting import (
    Account,
    Fill,
    FillKind,
    lamports_to_sol,
    sol_to_lamports,
    unrealised,
)
from rugsd.daemon.game.matching import OrderKind, PendingOrder
from rugsd.daemon.game.rules import LAMPORTS_PER_SOL, SIDEBET_PAYOUT

PLAYER_PREFIX = "sim:"
DEFAULT_COIN_ADDRESS = "0xPractice"
_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")
_MAX_ORDER_SOL = 1e9  # anything larger is a malformed number, not a bet


def valid_name(name: object) -> bool:
    """A player name: 1-32 characters of letters, digits, ``_``, ``.``, ``-``."""
    return isinstance(name, str) and bool(_NAME_RE.match(name))


def player_id_for(name: str) -> str:
    """The stable player id of a named player (``sim:<name>``)."""
    return f"{PLAYER_PREFIX}{name}"


def qty_to_wire(qty: int) -> float:
    """Nano-tokens to the wire's token float (9 decimals)."""
    return qty / LAMPORTS_PER_SOL


@dataclass(frozen=True, slots=True)
class GameStats:
    """What the leaderboard shows about one player in the current game (lamports)."""

    invested: int = 0  # buys and sidebet stakes this game
    trade_pnl: int = 0  # realised P&L of sells this game
    sidebet_pnl: int = 0  # -stake at placement, +payout on a win
    active: bool = False  # traded or bet this game

    def after(self, fill: Fill) -> GameStats:
        """The statistics after ``fill``."""
        if fill.kind == FillKind.BUY:
            return replace(self, invested=self.invested + fill.amount, active=True)
        if fill.kind in (FillKind.SELL, FillKind.RUG_SELL):
            return replace(self, trade_pnl=self.trade_pnl + fill.realised, active=True)
        if fill.kind == FillKind.SIDEBET_PLACE:
            return replace(
                self,
                invested=self.invested + fill.amount,
                sidebet_pnl=self.sidebet_pnl - fill.amount,
                active=True,
            )
        if fill.kind == FillKind.SIDEBET_WIN:
            return replace(self, sidebet_pnl=self.sidebet_pnl + fill.amount)
        return self


@dataclass(slots=True)
class Player:
    """One account in the room (the record is mutable; the ``Account`` inside is not)."""

    player_id: str
    username: str
    account: Account
    stats: GameStats = field(default_factory=GameStats)
    coin_address: str = DEFAULT_COIN_ADDRESS

    def apply(self, account: Account, fills: list[Fill]) -> None:
        """Store the account after ``fills`` and update the game statistics."""
        self.account = account
        for f in fills:
            self.stats = self.stats.after(f)


@dataclass(frozen=True, slots=True)
class OrderError:
    """A malformed order payload."""

    detail: str


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def parse_order(
    kind: OrderKind, data: Any, order_id: str, received_tick: int | None
) -> PendingOrder | OrderError:
    """Turn a wire payload (``buyOrder``/``sellOrder``/``requestSidebet``) into an order."""
    if not isinstance(data, dict):
        return OrderError(f"payload must be an object, got {type(data).__name__}")
    if kind == OrderKind.SELL:
        pct = _number(data.get("percentage"))
        if pct is None or pct != int(pct):
            return OrderError(f"bad percentage {data.get('percentage')!r}")
        return PendingOrder(order_id, kind, percentage=int(pct), received_tick=received_tick)
    amount = _number(data.get("amount"))
    if amount is None or amount < 0 or amount > _MAX_ORDER_SOL:
        return OrderError(f"bad amount {data.get('amount')!r}")
    if kind == OrderKind.SIDEBET:
        x = data.get("xPayout", SIDEBET_PAYOUT)
        if _number(x) != SIDEBET_PAYOUT:
            return OrderError(f"xPayout must be {SIDEBET_PAYOUT}, got {x!r}")
        coin = data.get("coinAddress", DEFAULT_COIN_ADDRESS)
        if coin is not None and not isinstance(coin, str):
            return OrderError(f"bad coinAddress {coin!r}")
    return PendingOrder(order_id, kind, amount=sol_to_lamports(amount), received_tick=received_tick)


def sidebet_dict(acct: Account) -> dict[str, Any] | None:
    """The open sidebet as ``{startTick, endTick, betAmount, xPayout}`` (or None)."""
    bet = acct.sidebet
    if bet is None:
        return None
    return {
        "startTick": bet.start_tick,
        "endTick": bet.end_tick,
        "betAmount": lamports_to_sol(bet.stake),
        "xPayout": bet.x_payout,
    }


def player_update(p: Player, game_id: str) -> dict[str, Any]:
    """The ``playerUpdate`` payload (shape documented in the module docstring)."""
    a = p.account
    return {
        "playerId": p.player_id,
        "gameId": game_id,
        "username": p.username,
        "cash": lamports_to_sol(a.balance),
        "positionQty": qty_to_wire(a.qty),
        "avgCost": a.avg_entry,
        "totalInvested": lamports_to_sol(a.cost),
        "pnl": lamports_to_sol(a.realised),
        "sidebet": sidebet_dict(a),
    }


def ledger_dict(p: Player, pending: int) -> dict[str, Any]:
    """The exact integer account, for ``GET /ledger/<player>`` and reconciliation."""
    a = p.account
    bet = a.sidebet
    return {
        "playerId": p.player_id,
        "username": p.username,
        "balance": a.balance,
        "qty": a.qty,
        "cost": a.cost,
        "realised": a.realised,
        "credited": a.credited,
        "entryTick": a.entry_tick,
        "sidebet": None
        if bet is None
        else {
            "startTick": bet.start_tick,
            "endTick": bet.end_tick,
            "stake": bet.stake,
            "xPayout": bet.x_payout,
        },
        "pending": pending,
    }


def leaderboard_entry(
    p: Player, game_id: str, price: float | None, position: int
) -> dict[str, Any]:
    """One ``leaderboard`` element with the real field names."""
    a = p.account
    s = p.stats
    marked = unrealised(a, price) if price is not None and a.qty else 0
    regular = s.trade_pnl + marked
    total = regular + s.sidebet_pnl
    bet = a.sidebet
    return {
        "id": p.player_id,
        "username": p.username,
        "level": 0,
        "pnl": lamports_to_sol(total),
        "regularPnl": lamports_to_sol(regular),
        "sidebetPnl": lamports_to_sol(s.sidebet_pnl),
        "shortPnl": 0,
        "sidebetActive": True if bet is not None else None,
        "sideBet": None
        if bet is None
        else {
            "startedAtTick": bet.start_tick,
            "gameId": game_id,
            "end": bet.end_tick,
            "betAmount": lamports_to_sol(bet.stake),
            "xPayout": bet.x_payout,
            "coinAddress": p.coin_address,
            "bonusPortion": 0,
            "realPortion": lamports_to_sol(bet.stake),
        },
        "shortPosition": None,
        "pnlPercent": total / s.invested * 100 if s.invested else 0,
        "hasActiveTrades": True,
        "positionQty": qty_to_wire(a.qty),
        "avgCost": a.avg_entry,
        "totalInvested": lamports_to_sol(s.invested),
        "selectedCoin": None,
        "position": position,
    }
