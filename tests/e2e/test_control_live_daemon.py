"""The control plane of a REAL ``rugsd run --paper`` subprocess (embedded simulator, x20):
bad requests get one error line each and trading goes on, vanishing or silent subscribers
do not disturb the daemon, ``rugsd status --json`` and Prometheus ``/metrics`` tell the
truth, including after a kill."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from daemon_proc import DaemonProc
from e2e_live import CHURN, count, now_ms, scrape, state_gauge, status_json, until

from rugsd.daemon.control.client import ControlConnection
from rugsd.daemon.control.protocol import MAX_REQUEST_BYTES

pytestmark = pytest.mark.timeout(90)

TICKS = ("rugsd_ticks_total", ())


async def _read_json(conn: ControlConnection, timeout: float = 5.0) -> dict[str, Any]:
    line = await asyncio.wait_for(conn.reader.readline(), timeout)
    assert line.endswith(b"\n"), f"connection closed or partial line: {line!r}"
    return json.loads(line)


async def _snapshots(conn: ControlConnection, n: int) -> list[dict[str, Any]]:
    """Subscribe on ``conn`` and read ``n`` snapshots (bounded)."""
    conn.writer.write(b'{"id": "sub", "cmd": "subscribe", "who": "test:e2e"}\n')
    await conn.writer.drain()
    out = []
    for _ in range(n):
        msg = await _read_json(conn)
        assert msg["type"] == "snapshot", msg
        out.append(msg)
    return out


def _no_errors_logged(d: DaemonProc) -> None:
    text = d.log_path.read_text(errors="replace")
    assert "Traceback" not in text, d.log_tail()
    bad = [e for e in d.log_events() if e.get("level") in ("error", "critical")]
    assert bad == [], bad


# (raw request line, expected error kind, id the error line must echo)
BAD_REQUESTS = [
    (b"this is not json\n", "malformed", None),
    (b"\xff\xfe\xfd\n", "malformed", None),
    (b"[1, 2, 3]\n", "malformed", None),
    (b'{"id": "u1", "cmd": "fly"}\n', "unknown_command", "u1"),
    (b'{"id": "a1", "cmd": "arm"}\n', "bad_args", "a1"),
    (b'{"id": "p1", "cmd": "pause", "args": {"bogus": 1}}\n', "bad_args", "p1"),
    (b'{"id": "v1", "cmd": "kill", "v": 99}\n', "bad_version", "v1"),
    (b"{" + b"x" * (MAX_REQUEST_BYTES + 10) + b"}\n", "too_long", None),
]


async def test_control_live_bad_requests_get_one_error_line_and_trading_goes_on(
    live_daemon: Callable[..., DaemonProc],
) -> None:
    d = live_daemon(env=CHURN, metrics=True)
    ticks_before = scrape(d.metrics_port)[TICKS]
    sent_ms = now_ms()

    conn = await ControlConnection.open(d.sock)
    async with conn:
        for raw, _kind, rid in BAD_REQUESTS:
            conn.writer.write(raw)
            await conn.writer.drain()
            answer = await _read_json(conn)
            assert answer["type"] == "error", (raw[:60], answer)
            assert answer["id"] == rid, (raw[:60], answer)
            assert answer["error"], answer
        # the same connection still works
        conn.writer.write(b'{"id": 42, "cmd": "status"}\n')
        await conn.writer.drain()
        status = await _read_json(conn)
    assert status["type"] == "result" and status["id"] == 42 and status["ok"] is True
    assert status["detail"] == "ACTIVE", "nothing bad may have paused or killed trading"

    # every refusal was counted by kind; none reached the daemon's command handler
    samples = scrape(d.metrics_port)
    expected: dict[str, int] = {}
    for _raw, kind, _rid in BAD_REQUESTS:
        expected[kind] = expected.get(kind, 0) + 1
    for kind, n in expected.items():
        assert samples.get(("rugsd_control_errors_total", (("kind", kind),))) == n, kind
    # the two that named a command (arm, pause) are journaled as refused; nothing applied
    journaled = d.query("SELECT command, result FROM operator_commands ORDER BY id")
    assert [c for c, _r in journaled] == ["arm", "pause"], journaled
    assert all(r.startswith("refused: bad args") for _c, r in journaled), journaled
    assert count(d, "SELECT count(*) FROM kill_events") == 0

    # ...and the daemon keeps trading: ticks counted, new orders sent
    await until(
        lambda: scrape(d.metrics_port)[TICKS] > ticks_before + 20, 10, "ticks to keep increasing", d
    )
    await until(
        lambda: count(d, "SELECT count(*) FROM orders WHERE ts_ms > ?", (sent_ms,)),
        15,
        "an order after the bad requests",
        d,
    )
    _no_errors_logged(d)


async def test_control_live_vanishing_and_silent_subscribers_do_not_disturb_the_daemon(
    live_daemon: Callable[..., DaemonProc],
) -> None:
    d = live_daemon(env=CHURN)
    silent = await ControlConnection.open(d.sock)  # subscribes, then never reads
    silent.writer.write(b'{"cmd": "subscribe"}\n')
    await silent.writer.drain()
    try:
        # a subscriber that reads a few snapshots, then vanishes without a goodbye
        first = await ControlConnection.open(d.sock)
        seen = await _snapshots(first, 4)
        seqs = [s["seq"] for s in seen]
        assert seqs == sorted(set(seqs)), seqs
        first.writer.transport.abort()
        # and one that vanishes before it read anything
        early = await ControlConnection.open(d.sock)
        early.writer.write(b'{"cmd": "subscribe"}\n')
        await early.writer.drain()
        early.writer.transport.abort()

        orders_before = count(d, "SELECT count(*) FROM orders")
        game_before = (seen[-1]["game"]["game_id"], seen[-1]["game"]["tick"])
        await until(
            lambda: count(d, "SELECT count(*) FROM orders") > orders_before,
            15,
            "orders to keep coming",
            d,
        )
        snap = d.snapshot()
        assert (snap["game"]["game_id"], snap["game"]["tick"]) != game_before
        assert snap["risk"]["state"] == "ACTIVE"
        assert snap["feed"]["connected"] is True and snap["feed"]["stale"] is False

        # a new subscriber gets a fresh, still increasing stream
        again = await ControlConnection.open(d.sock)
        async with again:
            later = await _snapshots(again, 3)
        later_seqs = [s["seq"] for s in later]
        assert later_seqs == sorted(set(later_seqs)) and later_seqs[0] > seqs[-1], later_seqs
    finally:
        await silent.close()
    assert d.snapshot()["risk"]["state"] == "ACTIVE"
    _no_errors_logged(d)


async def test_control_live_status_json_and_metrics_follow_trading_and_the_kill(
    live_daemon: Callable[..., DaemonProc],
) -> None:
    d = live_daemon(env=CHURN, metrics=True)
    report = await status_json(d)
    assert report["daemon_running"] is True
    assert report["trading_state"] == "ACTIVE" and report["kill_latched"] is False
    assert report["snapshot"]["risk"]["state"] == "ACTIVE"
    assert report["snapshot"]["daemon"]["strategy"] == "presale_target"
    assert report["snapshot"]["daemon"]["pid"] == d.pid

    first = scrape(d.metrics_port)
    assert state_gauge(first) == "ACTIVE"
    assert first[("rugsd_kill_latched", ())] == 0
    await until(
        lambda: scrape(d.metrics_port)[TICKS] > first[TICKS], 5, "rugsd_ticks_total to increase", d
    )
    samples = await until(
        lambda: (
            (s := scrape(d.metrics_port)).get(("rugsd_orders_total", (("action", "buy"),))) and s
        ),
        15,
        "a buy counted in rugsd_orders_total",
        d,
    )
    assert samples[("rugsd_decisions_total", (("verdict", "order"),))] >= 1
    assert samples[("rugsd_decisions_total", (("verdict", "none"),))] >= 1
    assert samples[("rugsd_decision_latency_seconds_count", ())] >= 1

    answer = d.command("kill", {"reason": "pytest e2e metrics"})
    assert answer["type"] == "result" and answer["ok"] is True, answer
    assert answer["risk"]["state"] == "KILLED"
    killed = await until(
        lambda: (s := scrape(d.metrics_port)) and state_gauge(s) == "KILLED" and s,
        5,
        "rugsd_trading_state to say KILLED",
        d,
    )
    assert killed[("rugsd_kill_latched", ())] == 1
    assert killed[("rugsd_control_commands_total", (("cmd", "kill"),))] == 1
    kills = d.query("SELECT source FROM kill_events")
    assert kills == [("control",)]
    # still alive and counting ticks while killed
    await until(
        lambda: scrape(d.metrics_port)[TICKS] > killed[TICKS],
        5,
        "ticks to keep being counted after the kill",
        d,
    )
    report = await status_json(d)
    assert report["trading_state"] == "KILLED" and report["kill_latched"] is True
    assert report["snapshot"]["risk"]["state"] == "KILLED"
    _no_errors_logged(d)
