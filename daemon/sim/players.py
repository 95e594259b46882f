"""Player accounts of the simulator: identity, order parsing, and the per-player payloads.

A player's money is a ``rugsd.daemon.game.accounting.Account`` (integer lamports / nano-tokens);
this module only wraps it with a name, the per-game statistics the leaderboard shows and
the queue of orders waiting for the next tick.

``playerUpdate`` (sent to the player's own connections after every change to its account)
has the real shape (captured from a logged-in session, ``tests/data/real/logged_in/``):
every key of the real payload, our values where they apply and neutral ones elsewhere
(levels, crates, bonus, leverage, shorts)::

    {"id": "sim:<name>", "cash": SOL float (balance), "positionQty": token float,
     "avgCost": price (cost / qty, 0 when flat), "totalInvested": SOL invested this game
     (buys and sidebet stakes), "cumulativePnL": this game's P&L marked at the price,
     "sidebetPnl", "pnlPercent", "sideBet": null | {"startedAtTick", "gameId", "end",
     "betAmount", "xPayout", "coinAddress", "bonusPortion", "realPortion"},
     "sidebets": [], "authenticated": true, ...}

``gameStatePlayerUpdate`` is ``{"gameId", "leaderboardEntry"}`` (the player's
``leaderboard`` element). Neither names a username or game beyond that, as on the venue.
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


def side_bet_wire(p: Player, game_id: str) -> dict[str, Any] | None:
    """The open sidebet as the venue writes it in ``playerUpdate``/``leaderboard`` (or None)."""
    bet = p.account.sidebet
    if bet is None:
        return None
    return {
        "startedAtTick": bet.start_tick,
        "gameId": game_id,
        "end": bet.end_tick,
        "betAmount": lamports_to_sol(bet.stake),
        "xPayout": bet.x_payout,
        "coinAddress": p.coin_address,
        "bonusPortion": 0,
        "realPortion": lamports_to_sol(bet.stake),
    }


def game_pnl(p: Player, price: float | None) -> tuple[int, int]:
    """(this game's P&L with the open position marked at ``price``, the sidebets' part)."""
    a = p.account
    s = p.stats
    marked = unrealised(a, price) if price is not None and a.qty else 0
    return s.trade_pnl + marked + s.sidebet_pnl, s.sidebet_pnl


def player_update(p: Player, game_id: str, price: float | None = None) -> dict[str, Any]:
    """The ``playerUpdate`` payload, in the real shape (module docstring)."""
    a = p.account
    total, sidebets = game_pnl(p, price)
    invested = p.stats.invested
    return {
        "id": p.player_id,
        "role": None,
        "cash": lamports_to_sol(a.balance),
        "bonusBalance": 0,
        "bonusWagerReq": 0,
        "bonusWagered": 0,
        "positionQty": qty_to_wire(a.qty),
        "avgCost": a.avg_entry,
        "cumulativePnL": lamports_to_sol(total),
        "sidebetPnl": lamports_to_sol(sidebets),
        "pnlPercent": total / invested * 100 if invested else 0,
        "totalInvested": lamports_to_sol(invested),
        "hasInteracted": p.stats.active,
        "selectedCoin": None,
        "levelInfo": {"level": 0, "xp": 0, "xpForNextLevel": 0, "totalXP": 0},
        "crateKeys": {},
        "recentCrateRewards": [],
        "shitcoinBalances": {},
        "authenticated": True,
        "hitMaxWin": False,
        "xpBoost": {"active": False, "activeUntil": 0, "available": 0},
        "sideBet": side_bet_wire(p, game_id),
        "sidebets": [],
        "shortPosition": None,
        "leveragedPositions": [],
        "autobuysEnabled": False,
        "autosellPrice": None,
    }


def game_state_player_update(p: Player, game_id: str, price: float | None) -> dict[str, Any]:
    """The ``gameStatePlayerUpdate`` payload: the player's leaderboard entry."""
    return {"gameId": game_id, "leaderboardEntry": leaderboard_entry(p, game_id, price, 0)}


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
    total, sidebets = game_pnl(p, price)
    return {
        "id": p.player_id,
        "username": p.username,
        "level": 0,
        "pnl": lamports_to_sol(total),
        "regularPnl": lamports_to_sol(total - sidebets),
        "sidebetPnl": lamports_to_sol(sidebets),
        "shortPnl": 0,
        "sidebetActive": True if a.sidebet is not None else None,
        "sideBet": side_bet_wire(p, game_id),
        "shortPosition": None,
        "pnlPercent": total / s.invested * 100 if s.invested else 0,
        "hasActiveTrades": True,
        "positionQty": qty_to_wire(a.qty),
        "avgCost": a.avg_entry,
        "totalInvested": lamports_to_sol(s.invested),
        "selectedCoin": None,
        "position": position,
    }
