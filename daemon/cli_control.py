"""``rugsd pause|resume|flatten|status``: operator commands over the control socket.

They find the daemon from any directory (``cli_find``): ``--data-dir``, else the running
daemon in the registry, else the configured data dir. With several daemons running,
``status`` reports each of them and the others ask for ``--data-dir``.

``status`` falls back to the files when the daemon is unreachable: the kill latch /
kill file (``DATA_DIR/run``), the pid file and the journal (read-only). ``pause``,
``resume`` and ``flatten`` need the running daemon and say so plainly otherwise.

Exit codes: 0 done; 1 the daemon refused the command; 2 which daemon is ambiguous;
3 the daemon is not reachable (``status``: not running).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from rugsd.daemon.cli_find import Target, TargetError, all_targets, one_target
from rugsd.daemon.control.client import (
    ControlError,
    ControlUnavailable,
    answer_ok,
    default_who,
    send_command_sync,
)
from rugsd.daemon.control.protocol import Command

EXIT_REFUSED = 1
EXIT_AMBIGUOUS = 2
EXIT_UNREACHABLE = 3
JOURNAL_NAME = "journal.sqlite"
_LAMPORTS = 1_000_000_000
_NANO = 1_000_000_000

_HELP = {
    "pause": "stop sending orders (HALTED by operator) until resume",
    "resume": "clear an operator pause / flatten / execution-error hold / venue-integrity "
              "halt (not a kill)",
    "flatten": "sell everything, then stay REDUCING (exits only) until resume",
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``pause``, ``resume``, ``flatten`` and ``status``."""
    for name, text in _HELP.items():
        p = subparsers.add_parser(name, help=text, description=text)
        _common(p)
        if name != "resume":
            p.add_argument("--reason", default="operator", help="note for the journal")
        p.set_defaults(func=run_command, control_cmd=name)
    p = subparsers.add_parser(
        "status", help="trading state, position and health of the daemon",
        description="Ask the running daemon; if it is not running, read the kill latch "
        "and the journal instead (exit 3).",
    )
    _common(p)
    p.set_defaults(func=run_status)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, default=None,
                   help="data directory (default: the running daemon, else general.data_dir)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the daemon")


def run_command(args: argparse.Namespace) -> int:
    """``rugsd pause|resume|flatten``: send the command, print the resulting state."""
    cmd = Command(args.control_cmd)
    try:
        sock = one_target(args.data_dir, cmd.value).socket
    except TargetError as err:
        print(f"rugsd {cmd}: {err}", file=sys.stderr)
        return EXIT_AMBIGUOUS
    cmd_args = {"reason": args.reason} if getattr(args, "reason", None) else {}
    try:
        answer = send_command_sync(sock, cmd, cmd_args, default_who("cli"), args.timeout)
    except (ControlUnavailable, ControlError) as err:
        if args.json:
            print(json.dumps({"ok": False, "cmd": cmd.value, "daemon_running": False,
                              "error": str(err)}))
        print(f"rugsd {cmd}: daemon not reachable: {err}; nothing was sent", file=sys.stderr)
        return EXIT_UNREACHABLE
    ok = answer_ok(answer)
    state = _state_of(answer.get("risk"))
    if args.json:
        print(json.dumps({"ok": ok, "cmd": cmd.value, "trading_state": state, "answer": answer}))
    elif answer.get("type") == "error":
        print(f"rugsd {cmd}: refused: {answer.get('error')}", file=sys.stderr)
    else:
        detail = answer.get("detail") or ""
        line = f"{cmd}: {'ok' if ok else 'refused'} — trading state {state}"
        print(line + (f" ({detail})" if detail else ""), file=sys.stdout if ok else sys.stderr)
    return 0 if ok else EXIT_REFUSED


def _state_of(risk: Any) -> str | None:
    if isinstance(risk, dict) and isinstance(risk.get("state"), str):
        return risk["state"].upper()
    return None


def run_status(args: argparse.Namespace) -> int:
    """``rugsd status``: live from the daemon, else from the latch, pid file and journal.

    Several running daemons (and no ``--data-dir``): one report each (``--json``: a list).
    """
    try:
        targets = all_targets(args.data_dir)
    except TargetError as err:
        print(f"rugsd status: {err}", file=sys.stderr)
        return EXIT_AMBIGUOUS
    results = [_status_of(t, args.timeout) for t in targets]
    if args.json:
        reports = [report for _code, report, _text in results]
        print(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2))
    else:
        for i, (_code, _report, text) in enumerate(results):
            if len(results) > 1:
                print(("\n" if i else "") + f"== {targets[i].describe()}")
            print(text)
    return max(code for code, _report, _text in results)


def _status_of(target: Target, timeout: float) -> tuple[int, dict[str, Any], str]:
    """(exit code, JSON report, human text) for one daemon."""
    data_dir = target.data_dir
    try:
        answer = send_command_sync(target.socket, Command.STATUS, None,
                                   default_who("cli"), timeout)
    except (ControlUnavailable, ControlError) as err:
        report = offline_status(data_dir, str(err))
        return EXIT_UNREACHABLE, report, format_offline(report)
    if answer.get("type") != "result":
        error = f"refused: {answer.get('error')}"
        return EXIT_REFUSED, {"daemon_running": True, "data_dir": str(data_dir),
                              "error": error}, f"daemon     {error}"
    snap = answer.get("snapshot") or {}
    risk = answer.get("risk") or {}
    report = {
        "daemon_running": True,
        "data_dir": str(data_dir),
        "trading_state": _state_of(risk),
        "kill_latched": bool(risk.get("kill_latched")),
        "snapshot": snap,
    }
    return 0, report, format_live(snap, data_dir)


# --- offline status (daemon not reachable) ----------------------------------------------


def offline_status(data_dir: Path, error: str) -> dict[str, Any]:
    """What the files say when the daemon cannot be asked (never raises)."""
    from rugsd.risk.killswitch import current_kill, pid_alive, read_pid

    run = Path(data_dir) / "run"
    kill = current_kill(run)
    pid = read_pid(run)
    alive = pid is not None and pid_alive(pid)
    journal = read_journal(Path(data_dir) / JOURNAL_NAME)
    return {
        "daemon_running": False,
        "data_dir": str(data_dir),
        "pid_file_process_alive": alive,
        "pid": pid,
        "trading_state": "KILLED" if kill is not None else None,
        "kill_latched": kill is not None,
        "kill": None if kill is None else {"ts_ms": kill.ts_ms, "who": kill.who,
                                           "reason": kill.reason, "detail": kill.detail},
        "journal": journal,
        "error": error,
    }


def read_journal(path: Path) -> dict[str, Any] | None:
    """The latest risk event, kill event, operator command and position, read-only.

    Tolerates an absent or foreign journal: missing tables give None entries.
    """
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return None
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as err:  # corrupt: say so rather than show nothing
        conn.close()
        return {"error": f"unreadable ({err}); `rugsd run` will refuse it, see "
                         "docs/reliability.md"}
    conn.row_factory = sqlite3.Row
    out: dict[str, Any] = {}
    try:
        for key, table in (("last_risk_event", "risk_events"), ("last_kill_event", "kill_events"),
                           ("last_operator_command", "operator_commands"),
                           ("last_position", "positions")):
            out[key] = _latest(conn, table)
        out["audits"] = _audit_counts(conn)
        # exposure left open at a stop, and how a restart settled it (docs/reliability.md)
        out["last_exposure_event"] = _latest(
            conn, "risk_events",
            "reason IN ('stopped_with_position', 'orphan_pending', 'orphan_settled')")
    finally:
        conn.close()
    pos = out.get("last_position")
    if pos:
        pos["balance_sol"] = _scaled(pos.get("balance"), _LAMPORTS)
        pos["qty_tokens"] = _scaled(pos.get("qty"), _NANO)
        pos["realised_sol"] = _scaled(pos.get("realised"), _LAMPORTS)
    return out


def _latest(conn: sqlite3.Connection, table: str, where: str = "") -> dict[str, Any] | None:
    clause = f" WHERE {where}" if where else ""
    try:
        row = conn.execute(
            f"SELECT * FROM {table}{clause} ORDER BY rowid DESC LIMIT 1").fetchone()
    except sqlite3.Error:  # no such table / locked / not a database
        return None
    return None if row is None else dict(zip(row.keys(), tuple(row), strict=True))


def _audit_counts(conn: sqlite3.Connection) -> dict[str, int] | None:
    """Venue-integrity audits by result (None for a journal without the table)."""
    try:
        rows = conn.execute("SELECT result, COUNT(*) FROM audits GROUP BY result").fetchall()
    except sqlite3.Error:
        return None
    return {str(r): int(n) for r, n in rows}


def audit_line(audit: dict[str, Any]) -> str:
    """``audit      fair 132/132 verified; 0 mismatches, 0 unverifiable`` (+ last mismatch)."""
    verified = int(audit.get("verified", 0) or 0)
    audited = int(audit.get("audited", 0) or 0)
    bad = int(audit.get("hash_mismatch", 0) or 0) + int(audit.get("path_mismatch", 0) or 0)
    line = (f"audit      fair {verified}/{audited} verified; {bad} mismatch"
            f"{'es' if bad != 1 else ''}, {audit.get('unverifiable', 0)} unverifiable")
    if audit.get("pending"):
        line += f", {audit['pending']} pending"
    last = audit.get("last_mismatch")
    if isinstance(last, dict):
        line += f"\n           LAST MISMATCH game {last.get('game_id')}: {last.get('detail')}"
    return line


def _scaled(value: Any, unit: int) -> float | None:
    return value / unit if isinstance(value, int) else None


def format_offline(report: dict[str, Any]) -> str:
    """Human text for the offline status."""
    lines = []
    if report["pid_file_process_alive"]:
        lines.append(f"daemon     process {report['pid']} is alive but its control socket is "
                     f"unreachable ({report['error']})")
    else:
        lines.append(f"daemon     NOT RUNNING ({report['error']})")
    lines.append(f"data dir   {report.get('data_dir')}")
    kill = report.get("kill")
    if kill:
        lines.append(f"state      KILLED (latched) — by {kill['who']} ({kill['reason']}) "
                     f"at {_local(kill['ts_ms'])}; clear with `rugsd arm`")
    else:
        lines.append("state      not trading (no kill latch)")
    journal = report.get("journal")
    if journal is None:
        lines.append("journal    none")
    elif journal.get("error"):
        lines.append(f"journal    {journal['error']}")
    else:
        ev = journal.get("last_risk_event")
        if ev:
            lines.append(f"last state {ev.get('new_state')} ({ev.get('reason')}) at "
                         f"{_local(ev.get('ts_ms'))}")
        audits = journal.get("audits")
        if audits:
            counts = {**audits, "audited": sum(audits.values())}
            lines.append(audit_line(counts) + " (all runs in the journal)")
        pos = journal.get("last_position")
        if pos:
            lines.append(f"position   balance {_fmt(pos.get('balance_sol'))} SOL, qty "
                         f"{_fmt(pos.get('qty_tokens'))} (game {pos.get('game_id')}, "
                         f"tick {pos.get('tick')})")
        exp = journal.get("last_exposure_event")
        if exp:
            lines.append(f"exposure   {exp.get('reason')}: {exp.get('detail')}")
    return "\n".join(lines)


def _fmt(value: Any, digits: int = 4) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else "-"


def _latch_word(risk: dict[str, Any]) -> str:
    if risk.get("latch_error"):
        return "YES, IN MEMORY ONLY"
    return "YES" if risk.get("kill_latched") else "no"


def format_live(snap: dict[str, Any], data_dir: Path | None = None) -> str:
    """Human text for the live status (tolerates missing fields)."""
    d = snap.get("daemon") or {}
    risk = snap.get("risk") or {}
    flags = risk.get("flags") or {}
    game = snap.get("game") or {}
    acct = snap.get("account") or {}
    feed = snap.get("feed") or {}
    ex = snap.get("execution") or {}
    lines = [
        (f"daemon     running (pid {d.get('pid')}, run {d.get('run_id')}, {d.get('mode')}, "
         f"strategy {d.get('strategy')}, bundle {d.get('bundle_version') or '-'})"),
        f"data dir   {data_dir if data_dir is not None else '-'}",
        (f"state      {_state_of(risk)}  (kill latch: "
         f"{_latch_word(risk)}, paused: "
         f"{'yes' if flags.get('operator_paused') else 'no'}, feed stale: "
         f"{'yes' if flags.get('feed_stale') else 'no'}, "
         f"{'VENUE INTEGRITY, ' if flags.get('venue_integrity') else ''}exec errors: "
         f"{flags.get('exec_errors', 0)})"),
        (f"game       {game.get('game_id') or '-'} {game.get('phase', '?')} tick "
         f"{game.get('tick', '-')} price {_fmt(game.get('price'), 4)}x"),
        (f"account    balance {_fmt(acct.get('balance_sol'))} SOL, position "
         f"{_fmt(acct.get('qty'))} @ {_fmt(acct.get('avg_entry'))}, session P&L "
         f"{_fmt(acct.get('session_pnl_sol'))} SOL"),
        (f"feed       {'connected' if feed.get('connected') else 'DISCONNECTED'}"
         f"{', STALE' if feed.get('stale') else ''}, last tick "
         f"{feed.get('last_tick_age_ms', '-')} ms ago, reconnects {feed.get('reconnects', 0)}"
         f", rejected {feed.get('rejected', 0)}"),
        (f"execution  {ex.get('executor') or '-'}, pending {ex.get('pending_orders', 0)}, "
         f"errors {ex.get('errors', 0)}"
         + (f" (last: {ex['last_error']})" if ex.get("last_error") else "")),
    ]
    if risk.get("latch_error"):
        lines.append(f"LATCH      {risk['latch_error']}")
    if isinstance(snap.get("audit"), dict):
        lines.append(audit_line(snap["audit"]))
    if risk.get("kill_reason"):
        lines.insert(2, f"killed by  {risk['kill_reason']}")
    faults = risk.get("faults") or {}
    if faults:
        lines.append("faults     " + ", ".join(f"{k} {v}" for k, v in sorted(faults.items())))
    rejected = feed.get("rejected_by_reason") or {}
    if rejected:
        top = sorted(rejected.items(), key=lambda kv: -kv[1])[:5]
        lines.append("rejected   " + ", ".join(f"{k} {v}" for k, v in top))
    orphan = acct.get("orphan")
    if isinstance(orphan, dict):
        lines.append(f"exposure   {orphan.get('how')}: {orphan.get('detail')}")
    for lim in risk.get("limits") or []:
        used, limit = lim.get("used"), lim.get("limit")
        pct = f" ({100 * used / limit:.0f}%)" if isinstance(used, int | float) and limit else ""
        shown = "/".join(f"{v:g}" if isinstance(v, int | float) else "-" for v in (used, limit))
        lines.append(f"limit      {lim.get('name')}: {shown} {lim.get('unit', '')}{pct}")
    return "\n".join(lines)


def _local(ts_ms: Any) -> str:
    """A journal time (ms since the epoch) as local date and time, for people."""
    if not isinstance(ts_ms, int):
        return "an unknown time"
    return datetime.fromtimestamp(ts_ms / 1000).strftime("%Y-%m-%d %H:%M:%S")
