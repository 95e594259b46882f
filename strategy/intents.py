"""What a strategy wants to do: an intent, never an order (only risk/ makes orders)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    """Kinds of intent."""

    WAIT = "wait"
    BUY = "buy"
    SELL = "sell"
    SIDEBET = "sidebet"


@dataclass(frozen=True, slots=True)
class Intent:
    """One desired action. ``amount`` in lamports (BUY, SIDEBET), ``percentage`` for SELL."""

    action: Action
    amount: int = 0
    percentage: int = 0
    source: str = ""  # which strategy / policy action produced it (for the journal)

    @property
    def is_entry(self) -> bool:
        """Entries add risk (buys, sidebets); exits (sells) reduce it."""
        return self.action in (Action.BUY, Action.SIDEBET)


WAIT = Intent(Action.WAIT)
