"""What the core's step helpers share: a step's output and the core state they act on.

``handlers``, ``settle``, ``faults``, ``orphan`` and ``audit.verdict`` are plain
functions over the core's state, kept beside ``decision.py`` so each file has one job.
They type that state as ``CoreState`` — the part of ``DecisionCore`` they may read and
the few methods through which they change it (risk transitions, the account, orders and
their records) — so none of them imports ``decision.py`` back: the core's modules form
no import cycle (tests/packaging/test_packaging_import_cycles.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from rugsd.daemon.game.accounting import Account, Fill, Sidebet
from rugsd.daemon.journal.records import OrderStatus
from rugsd.daemon.state.machine import GameStateMachine
from rugsd.daemon.state.view import GameView
from rugsd.risk.states import RiskState, StateChange
from rugsd.risk.verdicts import Order


@dataclass(frozen=True, slots=True)
class Notice:
    """One line for the shell to log (the core never logs): what, why, detail."""

    kind: str  # implausible | strategy_error | step_error | fault | fault_cleared | orphan
    reason: str
    detail: str = ""
    level: str = "warning"  # warning | error


@dataclass(slots=True)
class StepOutput:
    """What one step asks the shell to do: send ``orders`` (journal them first), journal
    ``records``, log ``notices`` (one line each; the core itself never logs), run the
    ``audits`` off the hot path and step their ``AuditVerdict``s back in."""

    orders: list[Order] = field(default_factory=list)
    records: list = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    audits: list = field(default_factory=list)


class CoreState(Protocol):
    """The decision core as its step helpers see it (``DecisionCore`` implements it)."""

    cfg: Any  # decision.CoreSettings
    account: Account
    risk: RiskState
    stats: Counter[str]
    open_orders: dict[str, Order]
    held: dict[str, Order]
    paper: Any  # paper.PaperVenue | None (None: an external executor reports fills)
    journal_down: bool
    exposure_game: str | None
    orphan_wait: str | None
    orphan_report: Any  # orphan.OrphanReport | None
    settled_sidebet: Sidebet | None
    machine: GameStateMachine
    audit_book: Any  # audit.verdict.AuditBook

    @property
    def view(self) -> GameView: ...

    def risk_to(self, transition: tuple[RiskState, StateChange | None], out: StepOutput,
                kill_source: str = "auto", kill_reason: str | None = None) -> None: ...

    def set_account(self, account: Account, ts_ms: int, out: StepOutput,
                    tick: int | None = None, price: float | None = None) -> None: ...

    def fill_record(self, order_id: str | None, fill: Fill, game_id: str, ts_ms: int,
                    out: StepOutput) -> None: ...

    def close_order(self, order_id: str, status: OrderStatus, detail: str, ts_ms: int,
                    out: StepOutput) -> None: ...
