"""Inputs to the core that are not feed events: operator commands and executor reports.

Plain functions over the core's state (kept beside ``decision.py`` so each file has one
job): they change the risk state or the account and append journal records, like every
other step of the core — no clock, no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rugsd.daemon.core.inputs import ExecReport, ExecStatus, OperatorAction, OperatorInput
from rugsd.daemon.core.state import Notice
from rugsd.daemon.game import accounting
from rugsd.daemon.game.accounting import Account
from rugsd.daemon.journal.records import OperatorCommand, OrderStatus
from rugsd.risk.reasons import ReasonCode

if TYPE_CHECKING:
    from rugsd.daemon.core.state import CoreState, StepOutput


def on_operator(core: CoreState, cmd: OperatorInput, out: StepOutput) -> None:
    """Operator commands: kill, pause, resume, flatten, arm (journaled with who/when)."""
    ts = cmd.ts_ms
    detail = f"{cmd.who or cmd.source} {cmd.reason}".strip()
    if cmd.action is OperatorAction.KILL:
        core.risk_to(
            core.risk.kill(ts, ReasonCode.OPERATOR_KILL, detail),
            out,
            kill_source=cmd.source,
            kill_reason=cmd.reason or "operator kill",
        )
    elif cmd.action is OperatorAction.PAUSE:
        core.risk_to(core.risk.pause(ts, detail), out)
    elif cmd.action is OperatorAction.RESUME:
        core.risk_to(core.risk.resume(ts, detail), out)
    elif cmd.action is OperatorAction.FLATTEN:
        core.risk_to(core.risk.flatten(ts, detail), out)
        core.risk_to(core.risk.on_position(core.account.qty, ts), out)
    elif cmd.action is OperatorAction.ARM:
        core.risk_to(core.risk.arm(ts, detail), out)
    out.records.append(
        OperatorCommand(
            core.cfg.run_id,
            ts,
            cmd.action.value,
            cmd.who or cmd.source,
            core.risk.trading_state.value,
        )
    )


def on_exec_report(core: CoreState, rep: ExecReport, out: StepOutput) -> None:
    """An external executor's report: close the order, apply fills, trust the venue."""
    order = core.open_orders.get(rep.order_id)
    game_id = order.game_id if order else (core.view.game_id or "")
    for fill in rep.fills:
        core.fill_record(rep.order_id, fill, game_id, rep.ts_ms, out)
    if rep.status is ExecStatus.FILLED:
        core.close_order(rep.order_id, OrderStatus.FILLED, rep.detail, rep.ts_ms, out)
        core.risk_to(core.risk.on_execution_ok(rep.ts_ms), out)
    elif rep.status is ExecStatus.REJECTED:
        core.close_order(rep.order_id, OrderStatus.REJECTED, rep.detail, rep.ts_ms, out)
    else:
        core.close_order(rep.order_id, OrderStatus.FAILED, rep.detail, rep.ts_ms, out)
        core.stats["exec_errors"] += 1
        core.risk_to(
            core.risk.on_execution_error(
                rep.ts_ms, core.cfg.limits.max_execution_errors, rep.detail
            ),
            out,
        )
    stale = rep.account is not None and _predates_settlement(core, rep.account)
    if stale:
        core.stats["exec_report_stale_account"] += 1
        out.notices.append(Notice(
            "stale_venue_account", "exec_report_stale_account",
            f"order {rep.order_id}: the venue's account still shows the sidebet settled "
            "since; the report's fills are applied to ours instead"))
    if rep.account is not None and not stale:
        core.set_account(rep.account, rep.ts_ms, out)
    elif rep.fills:
        # no venue account with the report: apply the fills ourselves (same arithmetic);
        # the venue's next account update reconciles
        account = core.account
        for fill in rep.fills:
            account = accounting.apply_fill(account, fill)
        core.set_account(account, rep.ts_ms, out)


def _predates_settlement(core: CoreState, venue: Account) -> bool:
    """The venue's snapshot was taken before the core settled a sidebet it still shows
    (the report was in flight while the window passed or the game rugged): taking it
    would reopen a settled sidebet and undo its payout."""
    return (venue.sidebet is not None and core.account.sidebet is None
            and venue.sidebet == core.settled_sidebet)
