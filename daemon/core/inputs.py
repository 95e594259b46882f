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


class FaultKind(StrEnum):
    """A fault the shell hit outside the core (docs/reliability.md)."""

    JOURNAL_WRITE = "journal_write"  # a durable write failed (disk full, I/O error...)
    TASK_DIED = "task_died"  # a supervised task of the daemon ended or raised
    SHELL_ERROR = "shell_error"  # the shell's own handling of a step raised


@dataclass(frozen=True, slots=True)
class Fault:
    """Stop new risk now: the core goes KILLED and journals why.

    ``unsent`` names orders whose intent could not be journaled: they were never sent
    (nor released to the paper venue) and are closed as rejected.
    """

    ts_ms: int
    kind: FaultKind
    detail: str = ""
    unsent: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FaultCleared:
    """The shell saw the faulty part work again (the journal committed a write).

    Only lifts what the fault blocked besides the kill (no orders while the journal
    cannot take their record); KILLED stays until an operator ``arm``.
    """

    ts_ms: int
    kind: FaultKind


@dataclass(frozen=True, slots=True)
class ReleaseOrder:
    """The shell journaled this order's intent durably: the paper venue may take it.

    Only used with ``CoreSettings.hold_orders`` (the daemon): a paper order is matched
    (and a presale order filled) only after its record is on disk.
    """

    ts_ms: int
    order_id: str
