"""Confirming browser orders from the feed: pure matching, fills and venue accounts.

After a click the executor waits for the venue to show the order happened: our player's
``standard/newTrade`` (buy/sell) or ``newSideBet`` (placed), followed by a
``playerUpdate``. Everything here is pure so it is tested without a browser:

- ``precheck`` refuses an order that cannot be typed into the UI (never clicked);
- ``matches`` says whether a feed event confirms the order being waited for;
- ``fill_for`` turns the confirming event into an ``accounting.Fill`` (the money
  arithmetic is ``rugsd.daemon.game.accounting``'s, fed with the venue's price and tick);
- ``venue_account`` converts a ``PlayerUpdate`` (9-decimal floats) to an integer
  ``Account`` — the venue's view (``cash``, ``positionQty``, ``avgCost``), which wins
  over our belief (reconciliation);
- ``ack_refusal`` reads the page's Socket.IO ack (``{success: false, reason}``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rugsd.daemon.events import PlayerUpdate, SidebetEvent, TradeEvent
from rugsd.daemon.game import accounting
from rugsd.daemon.game.accounting import MIN_BET_LAMPORTS, Account, Fill, FillKind, Reject
from rugsd.daemon.game.rules import LAMPORTS_PER_SOL, SELL_PERCENTAGES
from rugsd.risk.verdicts import Order
from rugsd.strategy.intents import Action

ORDER_EVENT = {Action.BUY: "buyOrder", Action.SELL: "sellOrder", Action.SIDEBET: "requestSidebet"}


def nano(qty: float) -> int:
    """Token float from the wire (9 decimals) → nano-tokens."""
    return round(qty * LAMPORTS_PER_SOL)


def sol_text(lamports: int) -> str:
    """Lamports as the text a person types into the bet input (no float noise)."""
    whole, frac = divmod(lamports, LAMPORTS_PER_SOL)
    return f"{whole}.{frac:09d}".rstrip("0").rstrip(".")


def precheck(order: Order) -> str | None:
    """Why ``order`` cannot be entered in the UI at all (None = fine)."""
    if order.action in (Action.BUY, Action.SIDEBET):
        if order.amount < MIN_BET_LAMPORTS:
            return f"amount {order.amount} below minimum {MIN_BET_LAMPORTS} lamports"
        return None
    if order.action is Action.SELL:
        if order.percentage not in SELL_PERCENTAGES:
            return f"percentage {order.percentage} not offered by the UI {SELL_PERCENTAGES}"
        return None
    return f"action {order.action.value} is not an order"


def event_key(event: object) -> tuple | None:
    """A dedupe key: the same trade may arrive from the page and from the daemon's feed."""
    if isinstance(event, TradeEvent):
        return ("trade", event.trade_id)
    if isinstance(event, SidebetEvent):
        return ("sidebet", event.player_id, event.game_id, event.start_tick, event.type)
    return None


def matches(order: Order, player_id: str | None, event: object) -> bool:
    """Does ``event`` (from our player) confirm ``order``?"""
    if player_id is None:
        return False
    if isinstance(event, TradeEvent):
        if event.player_id != player_id:
            return False
        if order.action is Action.BUY:
            return event.type == "buy" and accounting.sol_to_lamports(event.amount) == order.amount
        return order.action is Action.SELL and event.type == "sell"
    if isinstance(event, SidebetEvent):
        return (
            order.action is Action.SIDEBET
            and event.player_id == player_id
            and event.type == "placed"
            and accounting.sol_to_lamports(event.bet_amount) == order.amount
        )
    return False


def venue_fill(order: Order, event: TradeEvent | SidebetEvent) -> Fill:
    """The fill exactly as the venue reported it (balance and P&L unknown: 0)."""
    if isinstance(event, SidebetEvent):
        return Fill(FillKind.SIDEBET_PLACE, event.start_tick, 0.0, 0, order.amount,
                    -order.amount, 0)
    kind = FillKind.BUY if event.type == "buy" else FillKind.SELL
    return Fill(kind, event.tick, event.price, nano(event.qty),
                accounting.sol_to_lamports(event.amount), 0, 0)


@dataclass(frozen=True, slots=True)
class Applied:
    """A confirmed fill and our belief after it (None when the belief could not follow)."""

    fill: Fill
    account: Account | None
    agrees: bool  # our arithmetic reproduced the venue's qty and amount


def fill_for(order: Order, event: TradeEvent | SidebetEvent, belief: Account | None) -> Applied:
    """Apply the confirming ``event`` to our belief through ``accounting``.

    When the belief is unknown or our arithmetic disagrees with the venue's numbers, the
    venue's fill is reported and the belief is dropped until the next ``playerUpdate``.
    """
    seen = venue_fill(order, event)
    if belief is None:
        return Applied(seen, None, False)
    if isinstance(event, SidebetEvent):
        result = accounting.place_sidebet(
            belief, order.amount, event.start_tick, window=event.end_tick - event.start_tick,
            x_payout=round(event.x_payout),
        )
    elif order.action is Action.BUY:
        result = accounting.buy(belief, order.amount, event.price, event.tick)
    else:
        result = accounting.sell(belief, order.percentage, event.price, event.tick)
    if isinstance(result, Reject):
        return Applied(seen, None, False)
    account, fill = result
    agrees = (fill.qty, fill.amount) == (seen.qty, seen.amount)
    return Applied(fill, account, True) if agrees else Applied(seen, None, False)


def cost_tolerance(qty: int) -> int:
    """Lamports by which ``avgCost × positionQty`` may miss the true cost: ``avgCost`` comes
    with 9 decimals (±5e-10 SOL per token), so the product is off by up to half a lamport
    per 1e9 nano-tokens, plus one for the rounding of the product itself."""
    return -(-qty // 2_000_000_000) + 1


def venue_account(update: PlayerUpdate, belief: Account | None) -> Account:
    """The venue's view of our account as integers: it wins over ``belief``.

    Truth from the venue (real ``playerUpdate`` captures): ``cash`` → balance,
    ``positionQty`` → qty, ``avgCost × positionQty`` → cost of the open position (our
    belief's exact cost is kept when it is within ``cost_tolerance`` of that product).
    ``totalInvested`` and ``cumulativePnL`` are this game's totals — sidebet stakes and
    closed trades included, the open position marked — so they say nothing about the open
    position's cost or our realised P&L and are not used.

    Bookkeeping: ``credited`` (money put in) is kept from the belief and ``realised``
    takes up any difference (a rug or a sidebet settled by the venue, its rounding), so
    the ledger identity holds and a loss the venue saw counts as one. Without a belief
    the account opens afresh (credited = balance + cost, realised 0). The open sidebet
    and the entry tick are not in the update's numbers: kept from the belief.
    """
    balance = accounting.sol_to_lamports(update.cash)
    qty = nano(update.position_qty)
    cost = round(update.avg_cost * qty) if qty else 0
    if belief is not None and belief.qty == qty and abs(belief.cost - cost) <= cost_tolerance(qty):
        cost = belief.cost
    if belief is None:
        return Account(balance=balance, qty=qty, cost=cost, credited=balance + cost)
    return replace(
        belief,
        balance=balance,
        qty=qty,
        cost=cost,
        realised=balance + cost - belief.credited,
        entry_tick=belief.entry_tick if qty else None,
    )


def with_sidebet(account: Account, raw: Any) -> Account:
    """Set the open sidebet from a raw ``playerUpdate.sideBet`` (the venue's shape:
    ``{startedAtTick, end, betAmount, xPayout, …}`` or null) when it is valid."""
    if raw is None:
        return replace(account, sidebet=None)
    if not isinstance(raw, dict):
        return account
    try:
        bet = accounting.Sidebet(
            start_tick=_whole(raw["startedAtTick"]),
            end_tick=_whole(raw["end"]),
            stake=accounting.sol_to_lamports(float(raw["betAmount"])),
            x_payout=_whole(raw.get("xPayout", 5)),
        )
    except (KeyError, TypeError, ValueError):
        return account
    return replace(account, sidebet=bet)


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValueError(f"not a whole number: {value!r}")
    return int(value)


def ack_refusal(ack_args: tuple[Any, ...]) -> str | None:
    """The refusal detail of a Socket.IO order ack, or None when it is not a refusal."""
    payload = ack_args[-1] if ack_args else None
    if not isinstance(payload, dict) or payload.get("success") is not False:
        return None
    reason = payload.get("reason") or "refused"
    message = payload.get("message") or ""
    return f"{reason}: {message}" if message else str(reason)
