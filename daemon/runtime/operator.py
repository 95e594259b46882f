"""The daemon's answers on the control plane: the snapshot and operator commands.

Plain functions over the running ``Daemon`` (kept out of ``daemon.py`` so each file has
one job). Commands become ``OperatorInput`` steps of the decision core, so each is
journaled with who and when, and every answer carries the resulting risk state. A
command that is refused before it reaches the core (an ``arm`` with a wrong code, an
``arm`` while the latch is not on disk, a request with bad arguments) is journaled here
as ``refused: <why>``; so is ``reload-model``.

``kill`` always answers with the state it reached: the core is KILLED in memory before
anything is written, so a failed latch or journal write is reported in ``detail`` (and
the latch is retried), never as an error that reads like "not killed".
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import structlog

from rugsd.daemon.control.protocol import Command
from rugsd.daemon.core.inputs import OperatorAction
from rugsd.daemon.journal.records import OperatorCommand
from rugsd.daemon.runtime.executors import merged_health
from rugsd.daemon.runtime.latch import ArmVerdict
from rugsd.daemon.runtime.snapshot import build_snapshot
from rugsd.daemon.runtime.startup import now_ms
from rugsd.risk import killswitch

if TYPE_CHECKING:
    from rugsd.daemon.runtime.shell import Shell

log = structlog.get_logger(__name__)

# commands that become one operator input of the core
_STEPPED = {Command.PAUSE: OperatorAction.PAUSE, Command.RESUME: OperatorAction.RESUME,
            Command.FLATTEN: OperatorAction.FLATTEN}

_ARM_REFUSED = {
    ArmVerdict.WRONG_TOKEN: "wrong confirmation code: still KILLED",
    ArmVerdict.NO_LATCH: "no kill latch to check the code against: still KILLED",
}


def rejections(d: Shell) -> dict[str, int]:
    """Every rejected feed input by reason — undecodable frames, parser rejections and
    implausible values: what ``status`` shows and ``rugsd_feed_rejected_total`` counts."""
    out = d.feed.rejected_by_reason() if d.feed is not None else {}
    for key, n in d.core.stats.items():
        if key.startswith("implausible_") and n:
            out[f"implausible:{key[len('implausible_'):]}"] = n
    return out


def make_snapshot(d: Shell) -> dict[str, Any]:
    """The control-plane snapshot (docs/control-protocol.md)."""
    d.snapshot_seq += 1
    core = d.core
    health = d.feed.health_snapshot() if d.feed is not None else None
    bundle = getattr(getattr(core.strategy, "bundle", None), "manifest", None)
    rejected = rejections(d)
    snap = build_snapshot(
        core, seq=d.snapshot_seq, now_ms=now_ms(),
        daemon={
            "pid": os.getpid(), "run_id": d.run_id, "mode": d.mode,
            "strategy": core.strategy.name,
            "bundle_version": getattr(bundle, "version", None),
            "started_ts_ms": d.started_ms, "executor": d.executor_kind,
        },
        feed={
            "url": d.venue.url if d.venue else "",
            "connected": bool(d.feed and d.feed.connected),
            "stale": bool(health.stale) if health else True,
            "last_tick_age_ms": health.age_ms if health else None,
            "reconnects": health.reconnects if health else 0,
            "rejected": sum(rejected.values()),
            "rejected_by_reason": rejected,
        },
        execution={
            "executor": d.executor_kind, "pending_orders": len(core.open_orders),
            "errors": core.stats["exec_errors"], **merged_health(d.executors),
        },
        decisions=d.decisions,
        kill_latched=killswitch.latch_present(d.paths.run_dir),
        audit_pending=d.auditor.pending if d.auditor is not None else 0,
    )
    risk = snap.get("risk")
    if isinstance(risk, dict):  # a kill held in memory only says so
        risk["latch_error"] = d.latch.describe_pending() if d.latch.pending else None
    return snap


def journal_refusal(d: Shell, command: str, who: str, why: str) -> None:
    """Journal a command that never reached the core (never raises: it is a refusal)."""
    _journal(d, command, who, f"refused: {why}")


def handle_command(d: Shell, request: Any) -> dict[str, Any]:
    """One control-plane command; the answer says whether it took and the risk state."""
    raw = str(getattr(request, "cmd", ""))
    try:
        cmd = Command(raw)
    except ValueError:
        return {"ok": False, "cmd": raw, "detail": f"unknown command {raw!r}"}
    args = dict(getattr(request, "args", None) or {})
    who = str(getattr(request, "who", "") or "control")
    reason = str(args.get("reason", ""))
    detail = ""
    ok = True
    if cmd is Command.KILL:
        ok, detail = _kill(d, who, reason)
    elif cmd in _STEPPED:
        d.operator(_STEPPED[cmd], "control", who, reason)
        if d.core.risk.killed:
            # the kill latch outranks pause/resume/flatten: say so instead of "ok"
            ok, detail = False, "trading is KILLED: clear the latch with `rugsd arm` first"
    elif cmd is Command.ARM:
        ok, detail = _arm(d, str(args.get("token", "")), who)
    elif cmd is Command.RELOAD_MODEL:
        d.reload_requested = True
        detail = "reload scheduled for the next cooldown"
        _journal(d, cmd.value, who, "scheduled")
    elif cmd is not Command.STATUS:
        return {"ok": False, "cmd": cmd.value, "detail": f"unknown command {raw!r}"}
    return {"ok": ok, "cmd": cmd.value, "risk": make_snapshot(d)["risk"], "detail": detail}


def _journal(d: Shell, command: str, who: str, result: str) -> None:
    try:
        d.journal.write(OperatorCommand(d.run_id, now_ms(), command, who, result))
    except Exception as err:  # noqa: BLE001 - e.g. disk full: the answer still goes out
        log.error("operator command not journaled", command=command, who=who, error=str(err))


def _kill(d: Shell, who: str, reason: str) -> tuple[bool, str]:
    """The core goes KILLED first; what could not be written is said, not raised."""
    problems = []
    try:
        d.operator(OperatorAction.KILL, "tui" if who.startswith("tui") else "control", who,
                   reason)
    except Exception as err:
        if not d.core.risk.killed:
            raise
        log.error("kill: journal write failed (trading is KILLED)", error=str(err))
        problems.append(f"journal write failed: {type(err).__name__}: {err}")
    if d.latch.pending is not None:
        problems.insert(0, d.latch.describe_pending())
    return d.core.risk.killed, "; ".join(["KILLED", *problems])


def _arm(d: Shell, token: str, who: str) -> tuple[bool, str]:
    """Leave KILLED only with the right code, and only once the latch is on disk."""
    killed = d.core.risk.killed
    verdict = d.latch.check_arm(token, killed)
    if verdict is ArmVerdict.NOT_KILLED:
        _journal(d, "arm", who, f"{d.core.trading_state.value} (not killed: nothing to arm)")
        return True, str(verdict)
    if verdict is not ArmVerdict.ARM:
        why = d.latch.describe_pending() if verdict is ArmVerdict.NOT_PERSISTED \
            else _ARM_REFUSED[verdict]
        journal_refusal(d, "arm", who, f"{verdict}: {why}")
        return False, why
    try:
        cleared = killswitch.arm(d.paths.run_dir, token)
    except OSError as err:
        why = f"could not clear the kill latch: {err}"
        journal_refusal(d, "arm", who, why)
        return False, why
    if cleared is killswitch.ArmResult.WRONG_TOKEN:  # the latch changed under us
        journal_refusal(d, "arm", who, "wrong_token: the kill latch changed")
        return False, "the kill latch changed: still KILLED (run `rugsd arm` again)"
    d.latch.armed()
    if killed:
        d.operator(OperatorAction.ARM, "control", who, "armed with token")
    else:
        _journal(d, "arm", who, f"{d.core.trading_state.value} (latch cleared)")
    return True, str(ArmVerdict.ARM)
