"""``rugsd kill`` / ``status`` find the running daemon from any directory (the daemon
registry), and say loudly when no running daemon acknowledged a kill."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from daemon_proc import DaemonProc, rugsd, wait_for

from rugsd.risk.killswitch import latch_path


def _elsewhere(tmp_path: Path) -> Path:
    folder = tmp_path / "some" / "other" / "dir"
    folder.mkdir(parents=True)
    return folder


def test_kill_from_another_directory_kills_the_running_daemon(
    daemons: Callable[..., DaemonProc], tmp_path: Path
) -> None:
    d = daemons()
    d.wait_ready()
    wait_for(lambda: d.snapshot()["risk"]["state"] == "ACTIVE", 20, "ACTIVE", d.alive)
    cwd = _elsewhere(tmp_path)

    done = rugsd("kill", "--reason", "from elsewhere", cwd=cwd)

    assert done.returncode == 0, done.stdout + done.stderr
    assert d.snapshot()["risk"]["state"] == "KILLED"
    assert str(d.data_dir) in done.stdout and str(d.pid) in done.stdout
    assert latch_path(d.run_dir).exists()
    assert list(cwd.iterdir()) == []  # nothing written where the operator happened to be


def test_status_from_another_directory_reads_the_running_daemon(
    daemons: Callable[..., DaemonProc], tmp_path: Path
) -> None:
    d = daemons()
    d.wait_ready()

    status = rugsd("status", "--json", cwd=_elsewhere(tmp_path))

    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["daemon_running"] is True
    assert report["snapshot"]["daemon"]["pid"] == d.pid


def test_kill_with_no_running_daemon_fails_loudly_and_latches_the_default_data_dir(
    tmp_path: Path,
) -> None:
    done = rugsd("kill", cwd=_elsewhere(tmp_path))

    assert done.returncode != 0
    text = done.stdout + done.stderr
    assert "NO RUNNING DAEMON" in text
    assert "next start" in text  # the latch applies at the next start, and it says so
    assert "Traceback" not in text


def test_with_two_daemons_kill_kills_both_and_status_reports_both(
    daemons: Callable[..., DaemonProc], tmp_path: Path
) -> None:
    first = daemons(data_dir=tmp_path / "one")
    second = daemons(data_dir=tmp_path / "two")
    first.wait_ready()
    second.wait_ready()
    cwd = _elsewhere(tmp_path)

    status = rugsd("status", "--json", cwd=cwd)
    assert status.returncode == 0, status.stderr
    reports = json.loads(status.stdout)
    assert {r["snapshot"]["daemon"]["pid"] for r in reports} == {first.pid, second.pid}
    ambiguous = rugsd("pause", cwd=cwd)
    assert ambiguous.returncode == 2 and "--data-dir" in ambiguous.stderr
    assert str(first.pid) in ambiguous.stderr and str(second.pid) in ambiguous.stderr

    done = rugsd("kill", "--reason", "both", cwd=cwd)

    assert done.returncode == 0, done.stdout + done.stderr
    for d in (first, second):
        assert d.snapshot()["risk"]["state"] == "KILLED"
        assert f"KILLED: pid {d.pid} on {d.data_dir}" in done.stdout
    # --data-dir picks one
    armed = rugsd("arm", "--yes", "--data-dir", str(first.data_dir), cwd=cwd)
    assert armed.returncode == 0, armed.stderr
    wait_for(lambda: first.snapshot()["risk"]["state"] != "KILLED", 5, "first armed", first.alive)
    assert second.snapshot()["risk"]["state"] == "KILLED"
