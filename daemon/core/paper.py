"""Paper execution: our own orders matched by the venue's rule, on our own account.

It applies ``rugsd.daemon.game.matching`` — the very rule the simulator uses — so a paper P&L
equals the simulator's ledger for the same orders to the lamport. Pure: the decision core
calls it with the phase, tick, price and time of each event.

Latency: an active-phase order becomes due ``latency_ms`` after it was decided and fills
at the first tick at or after that time (with 0 ms: the next tick, exactly as the
simulator fills an order received between two ticks). Presale buys and sidebets fill at
once (1.00x, start tick 0), as on the venue.
"""

from __future__ import annotations

from dataclasses import dataclass

from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import Account
from rugsd.daemon.game.matching import (
    Admission,
    MatchReject,
    OrderKind,
    Outcome,
    PendingOrder,
    TickMatch,
    admit,
    fill_presale,
    match_tick,
    precheck,
)
from rugsd.risk.verdicts import Order


@dataclass(frozen=True, slots=True)
class _Waiting:
    order: PendingOrder
    due_ms: int


def pending_of(order: Order) -> PendingOrder:
    """The venue-side form of an approved order."""
    return PendingOrder(
        order_id=order.order_id,
        kind=OrderKind(order.action.value),
        amount=order.amount,
        percentage=order.percentage,
        received_tick=order.tick if order.tick >= 0 else None,
    )


class PaperVenue:
    """Holds our paper orders between decision and fill."""

    def __init__(self, latency_ms: int = 0) -> None:
        self.latency_ms = latency_ms
        self._waiting: list[_Waiting] = []

    @property
    def pending(self) -> int:
        """Orders waiting for a tick."""
        return len(self._waiting)

    def submit(
        self, acct: Account, order: Order, phase: Phase, ts_ms: int
    ) -> tuple[Account, Outcome | None]:
        """Admit ``order``; returns the outcome now (presale / refusal) or None (pending)."""
        pending = pending_of(order)
        refused = precheck(pending)
        if refused is not None:
            return acct, refused
        admission = admit(phase, pending.kind)
        if isinstance(admission, MatchReject):
            return acct, admission
        if admission is Admission.NOW:
            outcome = fill_presale(acct, pending)
            return (outcome[0] if isinstance(outcome, tuple) else acct), outcome
        self._waiting.append(_Waiting(pending, ts_ms + self.latency_ms))
        return acct, None

    def on_tick(
        self, acct: Account, tick: int, price: float, rugged: bool, ts_ms: int
    ) -> TickMatch:
        """One tick of the game: settle, then fill what is due (at the rug: refuse all)."""
        if rugged:
            due, self._waiting = self._waiting, []
        else:
            due = [w for w in self._waiting if w.due_ms <= ts_ms]
            self._waiting = [w for w in self._waiting if w.due_ms > ts_ms]
        return match_tick(acct, (w.order for w in due), tick, price, rugged)

    def drop_all(self) -> list[PendingOrder]:
        """Forget every waiting order (a new game started before they filled)."""
        dropped = [w.order for w in self._waiting]
        self._waiting = []
        return dropped
