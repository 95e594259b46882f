"""``rugsd kill`` / ``rugsd arm`` through their argparse wiring, on tmp data dirs."""

from __future__ import annotations

import argparse
import io
import subprocess
import sys

import pytest

from rugsd.daemon import cli_risk
from rugsd.risk.killswitch import (
    check_kill_file,
    kill_file_path,
    latch_path,
    pid_path,
    read_latch,
    run_dir_of,
    write_kill_file,
)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rugsd")
    cli_risk.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


def run(*argv: str) -> int:
    args = parse(*argv)
    return args.func(args)


class FakeTty(io.StringIO):
    """A stdin that claims to be a terminal, with the operator's typing pre-filled."""

    def isatty(self) -> bool:
        return True


def test_kill_without_a_daemon_writes_the_files_and_says_nobody_acknowledged(tmp_path, capsys):
    code = run("kill", "--data-dir", str(tmp_path), "--reason", "looks wrong")

    run_dir = run_dir_of(tmp_path)
    latch = read_latch(run_dir)
    captured = capsys.readouterr()
    assert code == 3  # no running daemon acknowledged: never a quiet success
    assert check_kill_file(run_dir) and kill_file_path(run_dir).read_text() == "looks wrong"
    assert latch.reason == "operator_kill" and latch.detail == "looks wrong"
    assert latch.who.startswith("cli:")
    assert "no running daemon" in captured.out
    assert "NO RUNNING DAEMON ACKNOWLEDGED THE KILL" in captured.err
    assert f"the next start on {tmp_path} starts KILLED" in captured.err


def test_kill_signals_a_live_daemon_named_in_the_pid_file(tmp_path, capsys):
    marker = tmp_path / "got-usr1"
    child_code = (
        "import pathlib, signal, sys, time\n"
        f"marker = pathlib.Path({str(marker)!r})\n"
        "signal.signal(signal.SIGUSR1, lambda *a: marker.write_text('usr1'))\n"
        "print('ready', flush=True)\n"
        "end = time.monotonic() + 20\n"
        "while not marker.exists() and time.monotonic() < end:\n"
        "    time.sleep(0.01)\n"
    )
    # the trailing argument puts "rugsd" in the child's command line
    child = subprocess.Popen([sys.executable, "-c", child_code, "rugsd-test"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        run_dir_of(tmp_path).mkdir(parents=True)
        pid_path(run_dir_of(tmp_path)).write_text(str(child.pid))

        code = run("kill", "--data-dir", str(tmp_path))

        child.wait(timeout=20)
        assert code == 1  # signalled, but a signal is not an acknowledgement
        assert marker.read_text() == "usr1"
        captured = capsys.readouterr()
        assert f"SIGUSR1 to daemon pid {child.pid}" in captured.out
        assert "NOT ACKNOWLEDGED" in captured.err
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)


def test_kill_does_not_signal_an_unrelated_process(tmp_path, capsys):
    other = subprocess.Popen(["sleep", "30"])
    try:
        run_dir_of(tmp_path).mkdir(parents=True)
        pid_path(run_dir_of(tmp_path)).write_text(str(other.pid))

        code = run("kill", "--data-dir", str(tmp_path))

        assert code == 3 and other.poll() is None  # SIGUSR1 would have terminated sleep
        assert "not rugsd; not signalled" in capsys.readouterr().out
        assert read_latch(run_dir_of(tmp_path)) is not None
    finally:
        other.kill()
        other.wait(timeout=10)


def test_arm_with_yes_clears_latch_and_kill_file(tmp_path, capsys):
    run("kill", "--data-dir", str(tmp_path), "--reason", "test")

    code = run("arm", "--data-dir", str(tmp_path), "--yes")

    run_dir = run_dir_of(tmp_path)
    assert code == 0
    assert not latch_path(run_dir).exists() and not kill_file_path(run_dir).exists()
    assert "armed" in capsys.readouterr().out


def test_arm_refuses_a_non_terminal_stdin_without_yes(tmp_path, capsys, monkeypatch):
    run("kill", "--data-dir", str(tmp_path))
    monkeypatch.setattr(sys, "stdin", io.StringIO("ABCDEF\n"))

    code = run("arm", "--data-dir", str(tmp_path))

    err = capsys.readouterr().err
    assert code == 2
    assert "not a terminal" in err and "--yes" in err
    assert read_latch(run_dir_of(tmp_path)) is not None


def test_arm_asks_for_the_code_on_a_terminal(tmp_path, capsys, monkeypatch):
    run("kill", "--data-dir", str(tmp_path))
    token = read_latch(run_dir_of(tmp_path)).token
    capsys.readouterr()

    monkeypatch.setattr(sys, "stdin", FakeTty("nope\n"))
    wrong = run("arm", "--data-dir", str(tmp_path))
    assert wrong == 1 and read_latch(run_dir_of(tmp_path)) is not None
    assert token in capsys.readouterr().out  # the prompt shows the code to type

    monkeypatch.setattr(sys, "stdin", FakeTty(token + "\n"))
    right = run("arm", "--data-dir", str(tmp_path))
    assert right == 0 and read_latch(run_dir_of(tmp_path)) is None


def test_arm_when_not_killed_is_a_no_op(tmp_path, capsys):
    assert run("arm", "--data-dir", str(tmp_path), "--yes") == 0
    assert "not killed" in capsys.readouterr().out


def test_arm_clears_a_bare_kill_file(tmp_path):
    write_kill_file(run_dir_of(tmp_path), "")
    assert run("arm", "--data-dir", str(tmp_path), "--yes") == 0
    assert not check_kill_file(run_dir_of(tmp_path))


def test_data_dir_defaults_to_the_configured_one(tmp_path, monkeypatch):
    monkeypatch.setenv("RUGSD_GENERAL__DATA_DIR", str(tmp_path / "configured"))
    assert run("kill") == 3  # no daemon running: the configured data dir gets the latch
    assert read_latch(run_dir_of(tmp_path / "configured")) is not None


@pytest.mark.parametrize("command", ["kill", "arm"])
def test_commands_accept_data_dir(command):
    assert parse(command, "--data-dir", "/x").data_dir.as_posix() == "/x"
