"""Faults inside and around the decision core: stop new risk first, explain second.

Plain functions over the core's state (like ``handlers.py``), pure like the rest of the
core — they change the risk state, close orders and append journal records and
``Notice``s; the shell does the logging (docs/reliability.md):

- ``on_step_error``: an exception escaped a step. The records the step produced before
  it are kept (a ``KillEvent`` among them still reaches the journal and the latch); the
  core goes KILLED with ``step_error`` and the fault is counted.
- ``on_fault``: the shell reports a fault outside the core (a failed durable write, a
  dead supervised task, its own bug). KILLED at once (in memory; the shell persists the
  latch); orders whose intent could not be journaled are closed as rejected — they
  were never sent — and after a failed journal write the paper orders still waiting
  for a tick are dropped and no new order is made (``core.journal_down``; its decisions
  are refused ``journal_write_failed``) until the shell reports the journal writing
  again (``on_fault_cleared``): no money moves without its record on disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rugsd.daemon.core.inputs import Fault, FaultCleared, FaultKind
from rugsd.daemon.core.state import Notice
from rugsd.daemon.journal.records import OrderStatus, RiskEvent
from rugsd.risk.reasons import ReasonCode

if TYPE_CHECKING:
    from rugsd.daemon.core.state import CoreState, StepOutput

__all__ = ["Notice", "describe_error", "fault_counts", "on_fault", "on_fault_cleared",
           "on_step_error"]

_FAULT_REASON = {
    FaultKind.JOURNAL_WRITE: ReasonCode.JOURNAL_WRITE_FAILED,
    FaultKind.TASK_DIED: ReasonCode.TASK_DIED,
    FaultKind.SHELL_ERROR: ReasonCode.STEP_ERROR,
}
DETAIL_CHARS = 300


def fault_counts(stats: Mapping[str, int]) -> dict[str, int]:
    """Faults so far by kind (``rugsd status`` and the ``rugsd_faults_total`` metric)."""
    out = {key[len("fault_"):]: n for key, n in stats.items()
           if key.startswith("fault_") and key != "fault_records_unwritten" and n}
    if stats.get("journal_write_failures"):
        out["journal_write_failures"] = stats["journal_write_failures"]
    if stats.get("strategy_errors"):
        out["strategy_error"] = stats["strategy_errors"]
    return out


def describe_error(err: BaseException) -> str:
    """``Type: message``, bounded (journal details and log lines stay one line)."""
    text = f"{type(err).__name__}: {err}".replace("\n", " ")
    return text[:DETAIL_CHARS]


def on_step_error(core: CoreState, event: object, err: Exception, out: StepOutput) -> None:
    """An exception escaped a step: keep its records, go KILLED, count it."""
    ts = getattr(event, "ts_ms", None)
    ts = ts if isinstance(ts, int) else core.view.ts_ms
    detail = f"{type(event).__name__}: {describe_error(err)}"
    out.notices.append(Notice("step_error", ReasonCode.STEP_ERROR.value, detail, "error"))
    _kill(core, ts, ReasonCode.STEP_ERROR, detail, "fault_step_error", out)


def on_fault(core: CoreState, fault: Fault, out: StepOutput) -> None:
    """A fault the shell reports: KILLED first, then close what cannot go on."""
    reason = _FAULT_REASON[fault.kind]
    detail = fault.detail[:DETAIL_CHARS]
    out.notices.append(Notice("fault", reason.value, detail, "error"))
    _kill(core, fault.ts_ms, reason, detail, f"fault_{fault.kind.value}", out)
    for order_id in fault.unsent:
        core.held.pop(order_id, None)
        core.close_order(order_id, OrderStatus.REJECTED, f"not sent: {reason.value}",
                         fault.ts_ms, out)
    if fault.kind is FaultKind.JOURNAL_WRITE:
        core.journal_down = True
        # their fills could not be journaled: no paper fill until the journal works
        for order_id in list(core.held):
            del core.held[order_id]
            core.close_order(order_id, OrderStatus.REJECTED, f"held: {reason.value}",
                             fault.ts_ms, out)
        if core.paper is not None:
            for pending in core.paper.drop_all():
                core.close_order(pending.order_id, OrderStatus.REJECTED,
                                 f"dropped: {reason.value}", fault.ts_ms, out)


def on_fault_cleared(core: CoreState, cleared: FaultCleared, out: StepOutput) -> None:
    """The journal writes again: orders may be made again (KILLED stays until ``arm``)."""
    if cleared.kind is not FaultKind.JOURNAL_WRITE or not core.journal_down:
        return
    core.journal_down = False
    core.stats["journal_recovered"] += 1
    detail = "journal writes succeed again; orders allowed by the trading state resume"
    state = core.risk.trading_state.value
    out.records.append(RiskEvent(core.cfg.run_id, cleared.ts_ms, state, state,
                                 ReasonCode.JOURNAL_RECOVERED.value, detail))
    out.notices.append(Notice("fault_cleared", ReasonCode.JOURNAL_RECOVERED.value, detail))


def _kill(core: CoreState, ts_ms: int, reason: ReasonCode, detail: str, counter: str,
          out: StepOutput) -> None:
    """KILLED with ``reason``; counted. Already killed: the first fault of this kind is
    still journaled (a fault repeating every tick is counted, not journaled each time)."""
    core.stats[counter] += 1
    if core.risk.killed:
        if core.stats[counter] == 1:
            state = core.risk.trading_state.value
            out.records.append(RiskEvent(core.cfg.run_id, ts_ms, state, state,
                                         reason.value, detail))
        return
    core.risk_to(core.risk.kill(ts_ms, reason, detail), out)
