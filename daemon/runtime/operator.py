"""The daemon's answers on the control plane: the snapshot and operator commands.

Plain functions over the running ``Daemon`` (kept out of ``daemon.py`` so each file has
one job). Commands become ``OperatorInput`` steps of the decision core, so each is
journaled with who and when, and every answer carries the resulting risk state.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from rugsd.daemon.core.inputs import OperatorAction
from rugsd.daemon.runtime.snapshot import build_snapshot
from rugsd.daemon.runtime.startup import now_ms
from rugsd.risk import killswitch

if TYPE_CHECKING:
    from rugsd.daemon.runtime.daemon import Daemon


def rejections(d: Daemon) -> dict[str, int]:
    """Every rejected feed input by reason — undecodable frames, parser rejections and
    implausible values: what ``status`` shows and ``rugsd_feed_rejected_total`` counts."""
    out = d.feed.rejected_by_reason() if d.feed is not None else {}
    for key, n in d.core.stats.items():
        if key.startswith("implausible_") and n:
            out[f"implausible:{key[len('implausible_'):]}"] = n
    return out


def make_snapshot(d: Daemon) -> dict[str, Any]:
    """The control-plane snapshot (docs/control-protocol.md)."""
    d.snapshot_seq += 1
    core = d.core
    health = d.feed.health_snapshot() if d.feed is not None else None
    mirror = d.mirror.stats if d.mirror is not None else None
    bundle = getattr(getattr(core.strategy, "bundle", None), "manifest", None)
    rejected = rejections(d)
    return build_snapshot(
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
            "errors": core.stats["exec_errors"],
            "last_error": d.bridge.last_error if d.bridge else None,
            "mirror": None if mirror is None else {
                "sent": mirror.sent, "reconciled": mirror.reconciled,
                "mismatches": mirror.mismatches, "late": mirror.late,
            },
        },
        decisions=d.decisions,
        kill_latched=killswitch.latch_present(d.paths.run_dir),
    )


def handle_command(d: Daemon, request: Any) -> dict[str, Any]:
    """One control-plane command; the answer says whether it took and the risk state."""
    cmd = str(getattr(request, "cmd", ""))
    args = dict(getattr(request, "args", None) or {})
    who = str(getattr(request, "who", "") or "control")
    reason = str(args.get("reason", ""))
    detail = ""
    ok = True
    if cmd == "kill":
        d.operator(OperatorAction.KILL, "tui" if who.startswith("tui") else "control", who,
                   reason)
    elif cmd in ("pause", "resume", "flatten"):
        d.operator(OperatorAction(cmd), "control", who, reason)
        if d.core.risk.killed:
            # the kill latch outranks pause/resume/flatten: say so instead of "ok"
            ok, detail = False, "trading is KILLED: clear the latch with `rugsd arm` first"
    elif cmd == "arm":
        result = killswitch.arm(d.paths.run_dir, str(args.get("token", "")))
        # NOT_KILLED: no latch on disk (e.g. `rugsd arm` cleared it just now) — the latch
        # file is the source of truth, so the core follows it
        ok = result in (killswitch.ArmResult.ARMED, killswitch.ArmResult.NOT_KILLED)
        detail = str(result)
        if ok and d.core.risk.killed:
            d.latch_seen = False
            d.operator(OperatorAction.ARM, "control", who, "armed with token")
    elif cmd == "reload-model":
        d.reload_requested = True
        detail = "reload scheduled for the next cooldown"
    elif cmd != "status":
        return {"ok": False, "cmd": cmd, "detail": f"unknown command {cmd!r}"}
    return {"ok": ok, "cmd": cmd, "risk": make_snapshot(d)["risk"], "detail": detail}
