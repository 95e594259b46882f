"""The data dir: private files (0600) and dirs (0700), one-line errors for a bad one, and
nothing left behind (pid file, registry entry) by a start that fails."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from daemon_proc import DaemonProc, rugsd, wait_for

from rugsd.risk.killswitch import pid_path


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _registry() -> Path:
    return Path(os.environ["XDG_STATE_HOME"]) / "rugsd" / "daemons"


def test_every_file_the_daemon_writes_is_private(
    daemons: Callable[..., DaemonProc], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    d = daemons(data_dir=data)
    d.wait_ready()
    assert d.command("kill", {"reason": "mode test"})["ok"]
    wait_for(lambda: d.query("SELECT count(*) FROM ticks")[0][0] > 0, 30, "a tick", d.alive)
    # the Parquet dataset is exported from the journal (safe while the daemon runs)
    done = rugsd("export", "--data-dir", str(data), timeout=120)
    assert done.returncode == 0, done.stderr
    assert list((data / "dataset").rglob("*.parquet"))
    entries = list(_registry().iterdir())

    files = [p for p in data.rglob("*") if not p.is_dir()] + entries
    dirs = [data, *(p for p in data.rglob("*") if p.is_dir()), _registry()]
    names = {p.name for p in files}
    assert {"journal.sqlite", "rugsd.pid", "kill.latch", "control.sock"} <= names
    assert len(entries) == 1
    assert {str(p): oct(_mode(p)) for p in files if _mode(p) != 0o600} == {}
    assert {str(p): oct(_mode(p)) for p in dirs if _mode(p) != 0o700} == {}
    assert d.stop() == 0
    assert list(_registry().iterdir()) == []  # the entry goes with the daemon

    # a journal left group/world readable by an older version is made private at start
    (data / "journal.sqlite").chmod(0o644)
    again = daemons(data_dir=data)
    again.wait_ready()
    assert _mode(data / "journal.sqlite") == 0o600


def test_a_data_dir_that_is_a_file_is_a_one_line_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    for argv in (["run", "--paper", "--data-dir", str(not_a_dir)],
                 ["run", "--paper", "--data-dir", str(not_a_dir / "below")],
                 ["kill", "--data-dir", str(not_a_dir)],
                 ["arm", "--yes", "--data-dir", str(not_a_dir)]):
        done = rugsd(*argv, env={"RUGSD_SIM__PORT": "1", "RUGSD_FEED__URL": "http://127.0.0.1:1"},
                     timeout=60)
        err = done.stderr.strip()
        assert done.returncode != 0, argv
        assert "Traceback" not in err, (argv, err)
        assert str(not_a_dir) in err and len(err.splitlines()) == 1, (argv, err)


def test_a_failed_start_leaves_no_pid_file_and_no_registry_entry(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "journal.sqlite").mkdir(parents=True)  # the journal cannot be opened
    done = rugsd("run", "--paper", "--data-dir", str(data),
                 env={"RUGSD_SIM__PORT": "1", "RUGSD_FEED__URL": "http://127.0.0.1:1"})
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert f"rugsd run: cannot open the journal {data / 'journal.sqlite'}" in done.stderr
    assert not pid_path(data / "run").exists()
    assert not _registry().exists() or list(_registry().iterdir()) == []
