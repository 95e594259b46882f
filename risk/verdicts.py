"""The gate's two possible answers: an ``Order`` for the executor or a ``Refusal``.

An order id is deterministic: ``f"{run_id}-{game_id}-{tick}-{seq}"`` where ``seq`` is the
run's order counter kept by the caller (``GateContext.order_seq``; presale orders all
share tick -1, so the counter is what makes ids unique). The same replayed input gives
the same ids, and the journal uses the id to guarantee nothing is sent twice after a
crash.
"""

from __future__ import annotations

from dataclasses import dataclass

from rugsd.daemon.fastinit import fast_init
from rugsd.risk.reasons import ReasonCode
from rugsd.strategy.intents import Action, Intent


def make_order_id(run_id: str, game_id: str, tick: int, seq: int) -> str:
    """The idempotency key of an order."""
    return f"{run_id}-{game_id}-{tick}-{seq}"


@fast_init
@dataclass(frozen=True, slots=True)
class Order:
    """An order the risk gate approved. ``amount`` lamports (BUY/SIDEBET), ``percentage`` SELL."""

    order_id: str
    action: Action
    amount: int
    percentage: int
    game_id: str
    tick: int
    ts_ms: int
    price: float  # the view's price when approved (presale buys fill at 1.0)
    source: str = ""
    flatten: bool = False  # the risk shell's own flattening sell

    @property
    def is_entry(self) -> bool:
        """Buys and sidebets add risk."""
        return self.action in (Action.BUY, Action.SIDEBET)


@fast_init
@dataclass(frozen=True, slots=True)
class Refusal:
    """An intent the gate refused, with the reason code and a one-line detail."""

    intent: Intent
    reason: ReasonCode
    detail: str = ""
    ts_ms: int = 0


Verdict = Order | Refusal
