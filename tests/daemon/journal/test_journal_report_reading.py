"""``rugsd report`` reads a damaged dataset or journal without a traceback: an unreadable
Parquet file is skipped with a warning naming it and the report covers the rest; an
unreadable journal is one error line."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rugsd.daemon.cli_report import add_parser
from rugsd.daemon.journal import DatasetWriter, DecisionRecord, Journal, TickRecord, open_journal
from rugsd.daemon.journal.compact import Compactor
from rugsd.daemon.journal.dayfiles import DAY_MS
from rugsd.daemon.journal.export import export_days
from rugsd.daemon.journal.report import build_report

NOW = 1_763_000_000_000 - 1_763_000_000_000 % DAY_MS + DAY_MS // 2


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="rugsd")
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["report", *argv])
    return args.func(args)


@pytest.fixture
def data_dir(tmp_path: Path, make_session) -> Path:
    """Three runs on three days, exported to Parquet day files."""
    with open_journal(tmp_path) as journal:
        for i, age in enumerate((2, 1, 0)):
            s = make_session(run_id=f"run-{age}", seed=30 + i, n_games=3,
                             start_ts=NOW - age * DAY_MS)
            journal.write_many(s.records)
        export_days(journal.conn, tmp_path / "dataset")
    return tmp_path


def _break_pages(path: Path) -> None:
    """Keep the footer (metadata reads fine), wreck the data pages."""
    raw = bytearray(path.read_bytes())
    footer = int.from_bytes(raw[-8:-4], "little") + 8
    for i in range(4, len(raw) - footer):
        raw[i] ^= 0x5A
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("damage", ["garbage", "pages"])
def test_an_unreadable_ticks_file_is_skipped_with_a_warning(data_dir: Path, capsys,
                                                            damage: str) -> None:
    files = sorted((data_dir / "dataset" / "ticks").glob("*.parquet"))
    healthy = build_report(data_dir)
    bad = files[1]
    bad_rows = build_report(data_dir)["dataset"]["ticks"]["rows"]
    if damage == "garbage":
        bad.write_bytes(b"PAR1" + b"\x00" * 100)
    else:
        _break_pages(bad)

    rc = _cli(["--data-dir", str(data_dir), "--json"])
    out, err = capsys.readouterr()
    report = json.loads(out)

    assert rc == 0
    assert err.startswith("warning: skipped unreadable Parquet file ") and str(bad) in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert report["warnings"] == [err.removeprefix("warning: ").strip()]
    assert report["dataset"]["ticks"]["unreadable"] == 1
    assert report["dataset"]["ticks"]["files"] == len(files) - 1
    assert 0 < report["dataset"]["ticks"]["rows"] < bad_rows
    # the journal's figures do not depend on the damaged dataset file
    assert report["pnl_lamports"] == healthy["pnl_lamports"]
    assert report["action_distribution"] == healthy["action_distribution"]


def test_a_legacy_part_file_that_is_broken_does_not_stop_the_report(tmp_path: Path) -> None:
    writer = DatasetWriter(tmp_path / "dataset", games_per_file=1)
    writer.write(TickRecord("r1", 1, "g1", 0, 1.0, "active"))
    writer.close()
    good = next((tmp_path / "dataset" / "ticks").glob("*.parquet"))
    (good.parent / "part-0000000000002-r2.parquet").write_bytes(b"truncated")

    report = build_report(tmp_path)

    assert report["dataset"]["ticks"] == {"files": 1, "rows": 1, "unreadable": 1}
    assert len(report["warnings"]) == 1 and "part-0000000000002-r2" in report["warnings"][0]


def test_an_unreadable_decisions_day_file_costs_only_its_own_rows(data_dir: Path) -> None:
    db = data_dir / "journal.sqlite"
    with Journal(db) as journal:
        every = journal.records(DecisionRecord)
        Compactor(journal, data_dir / "dataset", retention_days=0).run_all(NOW)
    oldest = min((data_dir / "dataset" / "decisions").glob("day-*.parquet"))
    lost = [d for d in every if d.ts_ms < NOW - NOW % DAY_MS - DAY_MS]
    oldest.write_bytes(b"garbage")

    report = build_report(data_dir)

    counted = sum(report["action_distribution"].values())
    assert counted == len(every) - len(lost)  # neither double-counted nor all lost
    assert any(str(oldest) in w for w in report["warnings"])


@pytest.mark.parametrize(("content", "says"), [(b"not a database" * 100, "not a database"),
                                              (b"", "no journal tables")])
def test_an_unreadable_journal_is_one_error_line(tmp_path: Path, capsys, content: bytes,
                                                 says: str) -> None:
    (tmp_path / "journal.sqlite").write_bytes(content)
    rc = _cli(["--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("error: cannot read journal") and says in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("command", ["status", "report", "export", "compact"])
def test_no_command_shows_a_traceback_for_a_corrupt_journal(tmp_path: Path,
                                                             command: str) -> None:
    (tmp_path / "journal.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xee" * 8000)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUGSD_")}
    done = subprocess.run([sys.executable, "-m", "rugsd.daemon.cli", command, "--data-dir",
                           str(tmp_path)], capture_output=True, text=True, timeout=120,
                          env=env, check=False)
    out = done.stdout + done.stderr
    assert "Traceback" not in out
    if command == "status":  # the daemon is down: status reads the files, says so
        assert done.returncode == 3 and "journal    unreadable" in done.stdout
    else:
        assert done.returncode == 1
        assert len([line for line in done.stderr.splitlines() if line.strip()]) == 1
