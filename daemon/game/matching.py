"""Order matching: when, and at what price, a venue order fills.

This module is shared by the simulator (``rugsd.daemon.sim``) and the daemon's paper executor so
that a paper P&L equals the simulator's ledger to the lamport. It is pure: accounts in,
accounts and fills out; every money movement goes through ``rugsd.daemon.game.accounting``.

The rule, by the phase the venue was in when the order arrived (the phase of the last
``gameStateUpdate`` it emitted):

- **cooldown** (settlement, ``cooldownTimer`` in (10000, 15000]) and **unknown**: buys and
  sidebets are refused (``phase_closed``); sells are refused (``no_sell_before_start``).
- **presale** (``cooldownTimer`` in (0, 10000], ``allowPreRoundBuys``): a buy fills at once
  at exactly ``PRESALE_PRICE`` (1.00x) on tick 0; a sidebet is placed at once with
  ``startTick = 0`` (window 0..40); sells are refused (``no_sell_before_start``).
- **active**: the order is not filled at once. It becomes a ``PendingOrder`` and fills at
  the price of the NEXT tick the venue emits after receipt (this models the latency between
  a click and the server's matching). Pending orders of one account fill in arrival order
  (FIFO), each against the account left by the previous one.
- If that next event is the **rug**: a pending buy is refused (``game_over``), a pending
  sidebet is refused (``game_over``) and a pending sell is moot (``force_sold``: the whole
  position is force-sold at the rug price anyway).
- **rugged** (after the rug, before the next game's cooldown): everything is refused
  (``game_over``).

At every non-rug tick, before the pending orders fill, a sidebet whose window has ended
without a rug is settled as lost (``accounting.settle_tick``), so a new sidebet can be
placed from the previous one's end tick. At the rug the pending orders are refused first,
then the account is settled (``accounting.settle_rug``: forced sell of all longs at the rug
price; an open sidebet wins 5x iff the rug tick <= its end tick).

``match_tick`` runs that whole sequence for one account at one tick; ``fill_on_tick`` and
``fill_presale`` fill a single order. Static checks (minimum bet, sell percentage) can be
applied at receipt with ``precheck`` so a malformed order is refused without waiting a tick.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from rugsd.daemon.events import Phase
from rugsd.daemon.game import accounting
from rugsd.daemon.game.accounting import (
    MIN_BET_LAMPORTS,
    Account,
    Fill,
    Reject,
    RejectReason,
)
from rugsd.daemon.game.rules import PRESALE_PRICE, SELL_PERCENTAGES


class OrderKind(StrEnum):
    """The three orders the venue accepts."""

    BUY = "buy"
    SELL = "sell"
    SIDEBET = "sidebet"


class MatchReason(StrEnum):
    """Why an order is refused by the phase rules (distinct from accounting refusals)."""

    PHASE_CLOSED = "phase_closed"  # settlement cooldown / nothing seen yet
    NO_SELL_BEFORE_START = "no_sell_before_start"  # presale and cooldown: nothing to sell
    GAME_OVER = "game_over"  # the game rugged before the order could fill
    FORCE_SOLD = "force_sold"  # a sell pending at the rug: the position was force-sold


class Admission(StrEnum):
    """What happens to an order admitted in a phase."""

    NOW = "now"  # presale: fill at once
    NEXT_TICK = "next_tick"  # active: pending until the next emitted tick


@dataclass(frozen=True, slots=True)
class MatchReject:
    """A refusal by the phase rules."""

    reason: MatchReason
    detail: str


@dataclass(frozen=True, slots=True)
class PendingOrder:
    """An order waiting for the next tick.

    ``amount`` is lamports (buy, sidebet); ``percentage`` one of ``SELL_PERCENTAGES``
    (sell); ``received_tick`` the last tick the venue had emitted at receipt (None before
    tick 0), kept for the journal.
    """

    order_id: str
    kind: OrderKind
    amount: int = 0
    percentage: int = 0
    received_tick: int | None = None


Outcome = tuple[Account, Fill] | Reject | MatchReject
"""A filled order (new account and its fill) or a refusal."""


@dataclass(frozen=True, slots=True)
class TickMatch:
    """The result of one tick for one account.

    ``outcomes`` pairs every pending order with its fill or refusal, in arrival order;
    ``settlements`` are the fills the tick itself caused (an expired sidebet lost, or at
    the rug the forced sell and the sidebet result).
    """

    account: Account
    outcomes: tuple[tuple[PendingOrder, Outcome], ...]
    settlements: tuple[Fill, ...]


def is_fill(outcome: Outcome) -> bool:
    """True when ``outcome`` is a fill rather than a refusal."""
    return isinstance(outcome, tuple)


def admit(phase: Phase, kind: OrderKind) -> Admission | MatchReject:
    """Decide, from the venue phase at receipt, whether an order fills now, later or never."""
    if phase == Phase.ACTIVE:
        return Admission.NEXT_TICK
    if kind == OrderKind.SELL:
        if phase == Phase.RUGGED:
            return MatchReject(MatchReason.GAME_OVER, "the game has rugged")
        return MatchReject(MatchReason.NO_SELL_BEFORE_START, f"no selling during {phase}")
    if phase == Phase.PRESALE:
        return Admission.NOW
    if phase == Phase.RUGGED:
        return MatchReject(MatchReason.GAME_OVER, "the game has rugged")
    return MatchReject(MatchReason.PHASE_CLOSED, f"no {kind} orders during {phase}")


def precheck(order: PendingOrder) -> Reject | None:
    """Static checks that need no account: minimum bet and sell percentage."""
    if order.kind == OrderKind.SELL:
        if order.percentage not in SELL_PERCENTAGES:
            return Reject(
                RejectReason.BAD_PERCENTAGE, f"{order.percentage} not in {SELL_PERCENTAGES}"
            )
        return None
    if order.amount < MIN_BET_LAMPORTS:
        return Reject(RejectReason.BELOW_MIN_BET, f"{order.amount} < {MIN_BET_LAMPORTS} lamports")
    return None


def fill_presale(acct: Account, order: PendingOrder) -> Outcome:
    """Fill a presale order at once: buys at ``PRESALE_PRICE``, sidebets from tick 0."""
    if order.kind == OrderKind.BUY:
        return accounting.buy(acct, order.amount, PRESALE_PRICE, 0)
    if order.kind == OrderKind.SIDEBET:
        return accounting.place_sidebet(acct, order.amount, 0)
    return MatchReject(MatchReason.NO_SELL_BEFORE_START, "no selling during presale")


def fill_on_tick(
    acct: Account, order: PendingOrder, tick: int, price: float, rugged: bool
) -> Outcome:
    """Fill a pending order at the tick that followed its receipt (or refuse it at the rug)."""
    if rugged:
        if order.kind == OrderKind.SELL:
            return MatchReject(MatchReason.FORCE_SOLD, f"rugged at tick {tick}; force-sold")
        return MatchReject(MatchReason.GAME_OVER, f"rugged at tick {tick}")
    if order.kind == OrderKind.BUY:
        return accounting.buy(acct, order.amount, price, tick)
    if order.kind == OrderKind.SELL:
        return accounting.sell(acct, order.percentage, price, tick)
    return accounting.place_sidebet(acct, order.amount, tick)


def settle_on_tick(acct: Account, tick: int) -> tuple[Account, Fill | None]:
    """A non-rug tick arrived: an expired sidebet is lost (``accounting.settle_tick``)."""
    return accounting.settle_tick(acct, tick)


def settle_on_rug(acct: Account, rug_tick: int, rug_price: float) -> tuple[Account, list[Fill]]:
    """The rug arrived: forced sell and sidebet result (``accounting.settle_rug``)."""
    return accounting.settle_rug(acct, rug_tick, rug_price)


def match_tick(
    acct: Account,
    orders: Iterable[PendingOrder],
    tick: int,
    price: float,
    rugged: bool,
) -> TickMatch:
    """Run one emitted tick for one account: the whole matching rule in one call.

    Non-rug tick: settle an expired sidebet, then fill ``orders`` FIFO at ``price``.
    Rug: refuse every pending order, then settle the rug at ``price`` (the rug price).
    """
    outcomes: list[tuple[PendingOrder, Outcome]] = []
    settlements: list[Fill] = []
    if rugged:
        for order in orders:
            outcomes.append((order, fill_on_tick(acct, order, tick, price, True)))
        acct, fills = settle_on_rug(acct, tick, price)
        settlements.extend(fills)
        return TickMatch(acct, tuple(outcomes), tuple(settlements))
    acct, lost = settle_on_tick(acct, tick)
    if lost is not None:
        settlements.append(lost)
    for order in orders:
        outcome = fill_on_tick(acct, order, tick, price, False)
        if isinstance(outcome, tuple):
            acct = outcome[0]
        outcomes.append((order, outcome))
    return TickMatch(acct, tuple(outcomes), tuple(settlements))
