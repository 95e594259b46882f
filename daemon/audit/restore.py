"""A venue-integrity halt survives a restart: it is lifted by an operator, not by a crash.

``venue_halt_in_force(journal)`` reads the journal's risk events: the halt is still in
force when the latest of {a ``venue_integrity`` halt, an operator ``resume``, an operator
``flatten``} is the halt. The daemon's start-up then halts again (and journals it).
In ``kill`` mode the kill latch already does this; in ``warn`` mode there is no halt.
"""

from __future__ import annotations

from rugsd.daemon.journal.records import RiskEvent
from rugsd.daemon.journal.store import Journal
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.states import TradingState

_LIFTS = (ReasonCode.OPERATOR_RESUME.value, ReasonCode.OPERATOR_FLATTEN.value)
RESTORED = "still in force after restart: "


def venue_halt_in_force(journal: Journal) -> str | None:
    """The detail of a venue-integrity halt no operator has lifted yet, else None."""
    reasons = (ReasonCode.VENUE_INTEGRITY.value, *_LIFTS)
    events = journal.records(RiskEvent, f"reason IN ({', '.join('?' * len(reasons))})",
                             reasons, order="id DESC")
    for event in events:
        if event.reason in _LIFTS:
            return None
        if event.new_state != TradingState.KILLED.value:
            return (event.detail or "venue integrity").removeprefix(RESTORED)
    return None
