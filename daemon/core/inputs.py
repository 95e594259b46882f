"""Inputs to the decision core besides feed events: operator, timer and executor reports.

Each carries ``ts_ms`` — the shell stamps it when the input arrives — so the core stays
free of clocks and a recorded input sequence replays identically.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rugsd.daemon.game.accounting import Account, Fill


class OperatorAction(StrEnum):
    """What an operator can ask of the running daemon."""

    KILL = "kill"
    PAUSE = "pause"
    RESUME = "resume"
    FLATTEN = "flatten"
    ARM = "arm"


@dataclass(frozen=True, slots=True)
class OperatorInput:
    """An operator command. ``source`` is cli/signal/file/tui/control; ``who`` a label."""

    ts_ms: int
    action: OperatorAction
    source: str = "control"
    who: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ClockTick:
    """The shell's periodic timer (e.g. every 100 ms): lets the core notice a silent feed."""

    ts_ms: int


class ExecStatus(StrEnum):
    """What the executor reports about one order."""

    FILLED = "filled"
    REJECTED = "rejected"  # the venue said no (a rule, not a fault)
    FAILED = "failed"  # our side failed: element missing, no confirmation, browser gone


@dataclass(frozen=True, slots=True)
class ExecReport:
    """An external executor's answer for one order (browser mode).

    ``account`` is the venue's view of our account after the order, when known: the core
    trusts it over its own belief (reconciliation).
    """

    ts_ms: int
    order_id: str
    status: ExecStatus
    fills: tuple[Fill, ...] = ()
    account: Account | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class VenueAccount:
    """The venue reported our account (e.g. from ``playerUpdate``): reconcile to it."""

    ts_ms: int
    account: Account
