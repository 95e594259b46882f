"""Every control command reaches the journal, refused ones included (a running daemon)."""

from __future__ import annotations

import socket
from collections.abc import Callable

from daemon_proc import DaemonProc, wait_for

from rugsd.daemon.control.sockpath import short_address


def _raw_line(d: DaemonProc, line: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s, short_address(d.sock) as addr:
        s.settimeout(5)
        s.connect(addr)
        s.sendall(line)
        return s.recv(1 << 16)


def test_refused_arm_attempts_are_journaled_and_change_nothing(
    daemons: Callable[..., DaemonProc],
) -> None:
    d = daemons()
    d.wait_ready()
    assert d.command("kill", {"reason": "journal test"})["ok"]

    wrong = d.command("arm", {"token": "NOPE00"})
    assert wrong["ok"] is False and wrong["risk"]["state"] == "KILLED"
    malformed = _raw_line(d, b'{"cmd":"arm","args":{},"who":"test:no-token"}\n')
    assert b'"type":"error"' in malformed

    rows = wait_for(lambda: d.query(
        "SELECT command, who, result FROM operator_commands WHERE command = 'arm'"), 5,
        "the refused arms in the journal", d.alive)
    wait_for(lambda: len(d.query(
        "SELECT 1 FROM operator_commands WHERE command = 'arm'")) == 2, 5, "both", d.alive)
    rows = d.query("SELECT command, who, result FROM operator_commands WHERE command = 'arm' "
                   "ORDER BY id")
    assert rows[0][1] == "test:pytest" and rows[0][2].startswith("refused")
    assert "wrong" in rows[0][2]
    assert rows[1][1] == "test:no-token" and rows[1][2].startswith("refused")
    assert d.snapshot()["risk"]["state"] == "KILLED"
