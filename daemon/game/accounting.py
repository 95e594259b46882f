"""Money arithmetic for one player — the only place where balances change.

The simulator's ledger, paper execution, replay backtests and the gymnasium env all call
these functions, so a P&L computed anywhere equals the P&L computed everywhere else.

Units are integers, as on the venue: SOL amounts in lamports (1e-9 SOL) and position
quantities in nano-tokens (1e-9 token). Prices stay floats (they come from the price
process). The real feed truncates: a buy of 0.03 SOL at 0.98718380 reports
``qty 0.030389477`` (30389477.54 floored) and a sell of 0.762 at 1.04250811 reports
``amount 0.794391178`` (794391178.61 floored); both conversions below floor likewise.
Checked against every trade in the real capture: buys match exactly; sells match or the
venue pays up to 3 lamports less (its internal precision is not visible in the feed), so
in live mode the venue's reported account wins over ours.

Every function is pure: it takes an ``Account`` and returns a new one plus the ``Fill``
(or a ``Reject`` with a reason). The ledger identity

    balance + cost == credited + realised

holds after every operation (``cost`` is what the open position cost, ``realised`` the
P&L of closed trades and sidebets); property tests check it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum

from rugsd.daemon.game.rules import (
    LAMPORTS_PER_SOL,
    MIN_BET_SOL,
    SELL_PERCENTAGES,
    SIDEBET_PAYOUT,
    SIDEBET_WINDOW,
)

MIN_BET_LAMPORTS = round(MIN_BET_SOL * LAMPORTS_PER_SOL)


def sol_to_lamports(sol: float) -> int:
    """Convert a SOL amount from the wire (9-decimal float) to lamports."""
    return round(sol * LAMPORTS_PER_SOL)


def lamports_to_sol(lamports: int) -> float:
    """Convert lamports to SOL for display and for the wire."""
    return lamports / LAMPORTS_PER_SOL


class FillKind(StrEnum):
    """What moved money."""

    BUY = "buy"
    SELL = "sell"
    RUG_SELL = "rug_sell"  # forced sale of the whole position at the rug price
    SIDEBET_PLACE = "sidebet_place"
    SIDEBET_WIN = "sidebet_win"
    SIDEBET_LOSS = "sidebet_loss"  # no money moves (the stake was paid at placement)


class RejectReason(StrEnum):
    """Why the venue rules refuse an operation (distinct from risk refusals)."""

    BELOW_MIN_BET = "below_min_bet"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    NO_POSITION = "no_position"
    BAD_PERCENTAGE = "bad_percentage"
    BAD_PRICE = "bad_price"
    SIDEBET_ACTIVE = "sidebet_active"


@dataclass(frozen=True, slots=True)
class Sidebet:
    """An open sidebet: wins ``stake * x_payout`` iff the rug tick is <= ``end_tick``."""

    start_tick: int
    end_tick: int
    stake: int
    x_payout: int = SIDEBET_PAYOUT


@dataclass(frozen=True, slots=True)
class Account:
    """One player's money. All amounts in lamports / nano-tokens."""

    balance: int = 0
    qty: int = 0
    cost: int = 0
    sidebet: Sidebet | None = None
    credited: int = 0
    realised: int = 0
    entry_tick: int | None = None

    @property
    def avg_entry(self) -> float:
        """Average entry price of the open position (0.0 when flat)."""
        return self.cost / self.qty if self.qty else 0.0


@dataclass(frozen=True, slots=True)
class Fill:
    """The result of one money-moving operation.

    ``amount`` is the lamports that left (buy, sidebet stake) or entered (sell, payout)
    the balance; ``realised`` the P&L this fill realised.
    """

    kind: FillKind
    tick: int
    price: float
    qty: int
    amount: int
    realised: int
    balance_after: int


@dataclass(frozen=True, slots=True)
class Reject:
    """A venue-rule refusal."""

    reason: RejectReason
    detail: str


Result = tuple[Account, Fill] | Reject


def open_account(balance: int) -> Account:
    """A fresh account credited with ``balance`` lamports."""
    if balance < 0:
        raise ValueError("opening balance must be >= 0")
    return Account(balance=balance, credited=balance)


def credit(acct: Account, amount: int) -> Account:
    """Add outside money (a deposit or a practice top-up)."""
    return replace(acct, balance=acct.balance + amount, credited=acct.credited + amount)


def qty_for(amount: int, price: float) -> int:
    """Nano-tokens bought with ``amount`` lamports at ``price`` (floored, as the venue)."""
    return math.floor(amount / price)


def value_of(qty: int, price: float) -> int:
    """Lamports received for ``qty`` nano-tokens at ``price`` (floored, as the venue)."""
    return math.floor(qty * price)


def _bad_price(price: float) -> bool:
    return not (math.isfinite(price) and price > 0)


def buy(acct: Account, amount: int, price: float, tick: int) -> Result:
    """Buy for ``amount`` lamports at ``price`` (presale buys are priced 1.0 by the caller)."""
    if amount < MIN_BET_LAMPORTS:
        return Reject(RejectReason.BELOW_MIN_BET, f"{amount} < {MIN_BET_LAMPORTS} lamports")
    if amount > acct.balance:
        return Reject(RejectReason.INSUFFICIENT_BALANCE, f"{amount} > {acct.balance}")
    if _bad_price(price):
        return Reject(RejectReason.BAD_PRICE, f"price {price!r}")
    qty = qty_for(amount, price)
    new = replace(
        acct,
        balance=acct.balance - amount,
        qty=acct.qty + qty,
        cost=acct.cost + amount,
        entry_tick=acct.entry_tick if acct.qty else tick,
    )
    return new, Fill(FillKind.BUY, tick, price, qty, amount, 0, new.balance)


def sell(acct: Account, percentage: int, price: float, tick: int) -> Result:
    """Sell ``percentage`` % of the position at ``price``."""
    if percentage not in SELL_PERCENTAGES:
        return Reject(RejectReason.BAD_PERCENTAGE, f"{percentage} not in {SELL_PERCENTAGES}")
    if _bad_price(price) and price != 0.0:
        return Reject(RejectReason.BAD_PRICE, f"price {price!r}")
    return _sell_qty(acct, acct.qty * percentage // 100, price, tick, FillKind.SELL)


def _sell_qty(acct: Account, qty: int, price: float, tick: int, kind: FillKind) -> Result:
    if qty <= 0 or acct.qty <= 0:
        return Reject(RejectReason.NO_POSITION, "nothing to sell")
    proceeds = value_of(qty, price)
    cost_part = acct.cost if qty == acct.qty else acct.cost * qty // acct.qty
    remaining = acct.qty - qty
    pnl = proceeds - cost_part
    new = replace(
        acct,
        balance=acct.balance + proceeds,
        qty=remaining,
        cost=acct.cost - cost_part,
        realised=acct.realised + pnl,
        entry_tick=acct.entry_tick if remaining else None,
    )
    return new, Fill(kind, tick, price, qty, proceeds, pnl, new.balance)


def can_place_sidebet(acct: Account, tick: int) -> bool:
    """One sidebet at a time; a new one may be placed from the previous one's end tick."""
    return acct.sidebet is None or tick >= acct.sidebet.end_tick


def place_sidebet(
    acct: Account,
    amount: int,
    tick: int,
    window: int = SIDEBET_WINDOW,
    x_payout: int = SIDEBET_PAYOUT,
) -> Result:
    """Stake ``amount`` on a rug within ``window`` ticks from ``tick``.

    A previous sidebet that reached its end tick without a rug is settled as lost first
    (the caller normally already did that through ``settle_tick``).
    """
    if not can_place_sidebet(acct, tick):
        return Reject(RejectReason.SIDEBET_ACTIVE, f"open until tick {acct.sidebet.end_tick}")
    if amount < MIN_BET_LAMPORTS:
        return Reject(RejectReason.BELOW_MIN_BET, f"{amount} < {MIN_BET_LAMPORTS} lamports")
    if amount > acct.balance:
        return Reject(RejectReason.INSUFFICIENT_BALANCE, f"{amount} > {acct.balance}")
    bet = Sidebet(start_tick=tick, end_tick=tick + window, stake=amount, x_payout=x_payout)
    new = replace(
        acct, balance=acct.balance - amount, realised=acct.realised - amount, sidebet=bet
    )
    return new, Fill(FillKind.SIDEBET_PLACE, tick, 0.0, 0, amount, -amount, new.balance)


def sidebet_expired(acct: Account, tick: int) -> bool:
    """At non-rug tick ``tick`` the open sidebet can no longer win: seeing tick ``t``
    proves the rug tick is > ``t``, so a sidebet with ``end_tick <= t`` is lost."""
    bet = acct.sidebet
    return bet is not None and tick >= bet.end_tick


def settle_tick(acct: Account, tick: int) -> tuple[Account, Fill | None]:
    """A non-rug tick arrived: a sidebet whose window has passed without a rug is lost
    (``sidebet_expired``)."""
    if not sidebet_expired(acct, tick):
        return acct, None
    new = replace(acct, sidebet=None)
    return new, Fill(FillKind.SIDEBET_LOSS, tick, 0.0, 0, 0, 0, new.balance)


def settle_rug(acct: Account, rug_tick: int, rug_price: float) -> tuple[Account, list[Fill]]:
    """The game rugged at ``rug_tick``: force-sell the position, resolve the sidebet."""
    fills: list[Fill] = []
    if acct.qty > 0:
        result = _sell_qty(acct, acct.qty, max(rug_price, 0.0), rug_tick, FillKind.RUG_SELL)
        assert not isinstance(result, Reject)  # qty > 0 and price >= 0 always sell
        acct, fill = result
        fills.append(fill)
    bet = acct.sidebet
    if bet is not None:
        if rug_tick <= bet.end_tick:
            payout = bet.stake * bet.x_payout
            acct = replace(
                acct, balance=acct.balance + payout, realised=acct.realised + payout, sidebet=None
            )
            fills.append(
                Fill(FillKind.SIDEBET_WIN, rug_tick, rug_price, 0, payout, payout, acct.balance)
            )
        else:
            acct = replace(acct, sidebet=None)
            fills.append(Fill(FillKind.SIDEBET_LOSS, rug_tick, rug_price, 0, 0, 0, acct.balance))
    return acct, fills


def equity(acct: Account, price: float) -> int:
    """Cash plus the position marked at ``price`` (open sidebet stakes are already spent)."""
    return acct.balance + (value_of(acct.qty, price) if acct.qty and price > 0 else 0)


def unrealised(acct: Account, price: float) -> int:
    """Marked P&L of the open position."""
    return (value_of(acct.qty, price) if acct.qty and price > 0 else 0) - acct.cost


def apply_fill(acct: Account, fill: Fill) -> Account:
    """Re-apply a recorded ``fill`` to ``acct`` (crash recovery, executor reports).

    The inverse direction of the operations above: a ``Fill`` carries everything an
    operation changed (qty, amount, realised), so replaying the fills of an account from
    its start reproduces it exactly — the property tests check that this agrees with
    ``buy``/``sell``/``place_sidebet``/``settle_*`` to the lamport.
    """
    kind = fill.kind
    if kind is FillKind.BUY:
        return replace(
            acct,
            balance=acct.balance - fill.amount,
            qty=acct.qty + fill.qty,
            cost=acct.cost + fill.amount,
            entry_tick=acct.entry_tick if acct.qty else fill.tick,
        )
    if kind in (FillKind.SELL, FillKind.RUG_SELL):
        remaining = acct.qty - fill.qty
        return replace(
            acct,
            balance=acct.balance + fill.amount,
            qty=remaining,
            cost=acct.cost - (fill.amount - fill.realised),
            realised=acct.realised + fill.realised,
            entry_tick=acct.entry_tick if remaining else None,
        )
    if kind is FillKind.SIDEBET_PLACE:
        bet = Sidebet(start_tick=fill.tick, end_tick=fill.tick + SIDEBET_WINDOW, stake=fill.amount)
        return replace(
            acct, balance=acct.balance - fill.amount, realised=acct.realised - fill.amount,
            sidebet=bet,
        )
    if kind is FillKind.SIDEBET_WIN:
        return replace(
            acct, balance=acct.balance + fill.amount, realised=acct.realised + fill.amount,
            sidebet=None,
        )
    return replace(acct, sidebet=None)  # SIDEBET_LOSS: the stake was paid at placement
