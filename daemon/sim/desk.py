"""The order desk: turns matching outcomes into acks and public broadcasts.

The room decides *whether* and *when* an order fills (``rugsd.daemon.game.matching``); the desk
writes down what the fill looks like on the wire: the ack returned to the ordering client,
``standard/newTrade`` (two-argument trace form) for buys and sells, ``newSideBet`` for a
sidebet placement, and the game's ``globalSidebets`` list for ``gameHistory``. It also
hands out the session's deterministic ids (orders, trades, sidebets, trace ids).

Ack shapes (our choice; the real acks are not in the captures beyond ``success``):

- buy: ``{success: true, orderId, tradeId, type: "buy", price, qty, amount, tickIndex,
  balance}``; sell: the same with ``type: "sell"`` and ``pnl``;
- sidebet: ``{success: true, orderId, message, sidebet: {startTick, endTick, betAmount,
  xPayout, id, coinAddress}, balance}``;
- refusal: ``{success: false, orderId, reason, message}`` (sidebets add ``sidebet: null``);
  ``reason`` is a ``matching.MatchReason`` or ``accounting.RejectReason`` value, or
  ``bad_request`` / ``unknown_player``.

Forced sells at the rug and sidebet results are not broadcast as trades; the player sees
them in its own events (``account_events``): after every change to an account,
``currentSidebetResult`` for a won sidebet (two-argument trace form, ``type: "payout"``,
as captured from a logged-in session; a lost sidebet has no captured event and sends
none), then ``playerUpdate``, then ``gameStatePlayerUpdate`` — the order the venue
sends them in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rugsd.daemon.game.accounting import Account, Fill, FillKind, Reject, lamports_to_sol
from rugsd.daemon.game.matching import MatchReject, OrderKind, Outcome, PendingOrder
from rugsd.daemon.sim import payloads as pl
from rugsd.daemon.sim.players import (
    Player,
    game_state_player_update,
    player_update,
    qty_to_wire,
    sidebet_dict,
)
from rugsd.daemon.sim.schedule import traceparent_for, uuid_for

GAME_STATE = "gameStateUpdate"
NEW_TRADE = "standard/newTrade"
NEW_SIDEBET = "newSideBet"
PLAYER_UPDATE = "playerUpdate"
GAME_STATE_PLAYER_UPDATE = "gameStatePlayerUpdate"
SIDEBET_RESULT = "currentSidebetResult"


@dataclass(frozen=True, slots=True)
class Emit:
    """Send ``event`` with ``args`` to everyone (``player_id`` None) or to one player."""

    event: str
    args: tuple[Any, ...]
    player_id: str | None = None


@dataclass(frozen=True, slots=True)
class Ack:
    """The answer to the order ``order_id`` that waited for a tick."""

    order_id: str
    payload: dict[str, Any]


Output = Emit | Ack


@dataclass(frozen=True, slots=True)
class Submission:
    """What ``Room.submit`` decided: ``ack`` now, or None while the order waits a tick."""

    order_id: str
    ack: dict[str, Any] | None
    outputs: tuple[Output, ...] = ()


def reject_ack(order_id: str, kind: OrderKind, reason: str, detail: str) -> dict[str, Any]:
    """The ack of a refused order."""
    out: dict[str, Any] = {
        "success": False,
        "orderId": order_id,
        "reason": reason,
        "message": detail,
    }
    if kind == OrderKind.SIDEBET:
        out["sidebet"] = None
    return out


@dataclass(slots=True)
class Desk:
    """Per-session id counters and the current game's public record."""

    seed: str
    orders: int = 0
    trades: int = 0
    traces: int = 0
    sidebet_ids: int = 0
    trade_count: int = 0  # trades in the current game (``tradeCount``)
    sidebets: list[pl.Payload] = field(default_factory=list)  # ``globalSidebets``
    rejects: dict[str, int] = field(default_factory=dict)

    def new_game(self) -> None:
        """Start the public record of a new game."""
        self.trade_count = 0
        self.sidebets = []

    def next_order_id(self) -> str:
        """A fresh deterministic order id."""
        oid = uuid_for(self.seed, "order", self.orders)
        self.orders += 1
        return oid

    def refuse(self, order_id: str, kind: OrderKind, reason: str, detail: str) -> dict[str, Any]:
        """Count a refusal and build its ack."""
        self.rejects[reason] = self.rejects.get(reason, 0) + 1
        return reject_ack(order_id, kind, reason, detail)

    def outcome(
        self,
        p: Player,
        order: PendingOrder,
        outcome: Outcome,
        price: float,
        game_id: str,
        now_ms: int,
    ) -> tuple[dict[str, Any], list[Output]]:
        """Apply one order's outcome to ``p``; return its ack and the broadcasts it causes."""
        if isinstance(outcome, Reject | MatchReject):
            return self.refuse(order.order_id, order.kind, str(outcome.reason), outcome.detail), []
        acct, fill = outcome
        p.apply(acct, [fill])
        if fill.kind == FillKind.SIDEBET_PLACE:
            return self._sidebet_placed(p, order, fill, price, game_id, now_ms)
        return self._traded(p, order, fill, game_id)

    def _traded(
        self, p: Player, order: PendingOrder, fill: Fill, game_id: str
    ) -> tuple[dict[str, Any], list[Output]]:
        kind = "buy" if fill.kind == FillKind.BUY else "sell"
        trade_id = uuid_for(self.seed, "trade", self.trades)
        self.trades += 1
        self.trade_count += 1
        qty = qty_to_wire(fill.qty)
        amount = lamports_to_sol(fill.amount)
        payload = pl.trade(
            trade_id=trade_id,
            game_id=game_id,
            player_id=p.player_id,
            username=p.username,
            kind=kind,
            price=fill.price,
            qty=qty,
            tick=fill.tick,
            amount=amount,
        )
        trace = pl.trace_arg(traceparent_for(self.seed, self.traces))
        self.traces += 1
        ack: dict[str, Any] = {
            "success": True,
            "orderId": order.order_id,
            "tradeId": trade_id,
            "type": kind,
            "price": fill.price,
            "qty": qty,
            "amount": amount,
            "tickIndex": fill.tick,
            "balance": lamports_to_sol(fill.balance_after),
        }
        if kind == "sell":
            ack["pnl"] = lamports_to_sol(fill.realised)
        return ack, [Emit(NEW_TRADE, (trace, payload))]

    def _sidebet_placed(
        self,
        p: Player,
        order: PendingOrder,
        fill: Fill,
        price: float,
        game_id: str,
        now_ms: int,
    ) -> tuple[dict[str, Any], list[Output]]:
        bet = p.account.sidebet
        assert bet is not None  # a SIDEBET_PLACE fill always opens one
        sidebet_id = uuid_for(self.seed, "sidebet", self.sidebet_ids)
        self.sidebet_ids += 1
        common: dict[str, Any] = {
            "player_id": p.player_id,
            "game_id": game_id,
            "username": p.username,
            "bet_amount": lamports_to_sol(bet.stake),
            "x_payout": bet.x_payout,
            "coin_address": p.coin_address,
            "start_tick": bet.start_tick,
            "end_tick": bet.end_tick,
            "timestamp": now_ms,
        }
        self.sidebets.append(pl.global_sidebet(sidebet_id=sidebet_id, **common))
        payload = pl.new_sidebet(price=price, tick=fill.tick, **common)
        info = sidebet_dict(p.account) or {}
        ack = {
            "success": True,
            "orderId": order.order_id,
            "message": "sidebet placed",
            "sidebet": {**info, "id": sidebet_id, "coinAddress": p.coin_address},
            "balance": lamports_to_sol(fill.balance_after),
        }
        return ack, [Emit(NEW_SIDEBET, (payload,))]

    def account_events(
        self,
        p: Player,
        game_id: str,
        price: float | None,
        before: Account,
        settlements: tuple[Fill, ...] | list[Fill] = (),
        now_ms: int = 0,
    ) -> list[Output]:
        """What the player's own connections receive after its account changed."""
        out: list[Output] = []
        bet = before.sidebet
        for f in settlements:
            if f.kind == FillKind.SIDEBET_WIN and bet is not None:
                payload = {
                    "playerId": p.player_id,
                    "gameId": game_id,
                    "username": p.username,
                    "level": 0,
                    "price": pl.wire_price(f.price),
                    "betAmount": lamports_to_sol(bet.stake),
                    "xPayout": bet.x_payout,
                    "coinAddress": p.coin_address,
                    "startTick": bet.start_tick,
                    "endTick": bet.end_tick,
                    "tickIndex": f.tick,
                    "payout": lamports_to_sol(f.amount),
                    "profit": lamports_to_sol(f.amount - bet.stake),
                    "timestamp": now_ms,
                    "type": "payout",
                }
                trace = pl.trace_arg(traceparent_for(self.seed, self.traces))
                self.traces += 1
                out.append(Emit(SIDEBET_RESULT, (trace, payload), p.player_id))
        out.append(Emit(PLAYER_UPDATE, (player_update(p, game_id, price),), p.player_id))
        out.append(Emit(GAME_STATE_PLAYER_UPDATE,
                        (game_state_player_update(p, game_id, price),), p.player_id))
        return out
