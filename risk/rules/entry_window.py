"""Gate rule ``entry_window`` (a protection: on while listed in ``[risk] protections``): entries
only in ``entry_phases`` and, live, within the configured tick range.
"""

from __future__ import annotations

from rugsd.daemon.events import Phase
from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import refuse
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """Entries only in ``entry_phases`` and, live, within the configured tick range."""
    if not intent.is_entry:
        return None
    lim, view = ctx.limits, ctx.view
    if view.phase not in lim.entry_phases:
        return refuse(intent, ctx, ReasonCode.ENTRY_PHASE, f"phase {view.phase}")
    if view.phase is Phase.ACTIVE and not lim.entry_min_tick <= view.tick <= lim.entry_max_tick:
        return refuse(intent, ctx, ReasonCode.ENTRY_TICK_RANGE,
                      f"tick {view.tick} outside [{lim.entry_min_tick}, {lim.entry_max_tick}]")
    # an entry decided in the last moments of presale reaches the venue after the game
    # started and fills at the live price, not at 1.00x: refuse it instead
    if view.phase is Phase.PRESALE and view.cooldown_ms < lim.presale_cutoff_ms:
        return refuse(intent, ctx, ReasonCode.PRESALE_CLOSING,
                      f"{view.cooldown_ms} ms of presale left < {lim.presale_cutoff_ms} ms")
    return None
