"""Audits in the journal: each verdict is a row with its evidence, ``rugsd replay`` audits
like the daemon does, ``rugsd audit --data-dir`` recomputes every journaled verdict,
``rugsd report`` has the fairness section, and a venue halt survives a restart."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from audit_helpers import make_room

from rugsd.daemon.audit.restore import venue_halt_in_force
from rugsd.daemon.cli import main
from rugsd.daemon.config import Settings
from rugsd.daemon.journal import data_paths, open_journal
from rugsd.daemon.journal.records import AuditRecord, RiskEvent
from rugsd.daemon.runtime.replay import replay
from rugsd.daemon.runtime.startup import restore_state
from rugsd.daemon.sim.desk import GAME_STATE, Emit
from rugsd.risk.states import TradingState

SETTINGS = Settings.model_validate({"strategy": {"name": "presale_target"}})


def _recording(path: Path, games: int, tamper: str | None = None) -> Path:
    """A simulator session in rugsd's own recording format (raw Socket.IO arguments)."""
    room = make_room("11", tamper)
    with path.open("w") as fh:
        while room.games_played < games:
            for o in room.step():
                if isinstance(o, Emit) and o.event == GAME_STATE:
                    fh.write(json.dumps({"recv_ts_ms": room.now_ms, "event": o.event,
                                         "args": list(o.args)}) + "\n")
    return path


def _rows(data_dir: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(data_dir / "journal.sqlite")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_replay_journals_one_audit_per_game(tmp_path: Path) -> None:
    summary = replay([_recording(tmp_path / "s.jsonl", 3)], SETTINGS, tmp_path / "d")
    rows = _rows(tmp_path / "d", "SELECT result, commitment, server_seed, rug_tick, entry_tick, "
                                 "observations FROM audits ORDER BY id")
    assert [r[0] for r in rows] == ["verified"] * 3
    assert all(r[1] and r[2] and r[3] and r[4] == 0 for r in rows)
    assert all(json.loads(r[5])["claims"] for r in rows)
    assert summary.trading_state == "active"


def test_replaying_a_tampered_session_halts_and_the_journal_audit_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    data = tmp_path / "d"
    summary = replay([_recording(tmp_path / "t.jsonl", 2, "price")], SETTINGS, data)
    assert summary.trading_state == TradingState.HALTED.value
    assert _rows(data, "SELECT new_state FROM risk_events WHERE reason = 'venue_integrity'")

    assert main(["audit", "--data-dir", str(data), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["counts"]["path_mismatch"] == 2
    assert doc["journal"]["rows"] == 2 and doc["journal"]["disagreements"] == []


def test_a_journaled_verdict_that_does_not_hold_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    data = tmp_path / "d"
    replay([_recording(tmp_path / "t.jsonl", 1, "price")], SETTINGS, data)
    conn = sqlite3.connect(data / "journal.sqlite")
    conn.execute("UPDATE audits SET result = 'verified'")  # a journal that lies
    conn.commit()
    conn.close()
    assert main(["audit", "--data-dir", str(data), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    (bad,) = doc["journal"]["disagreements"]
    assert (bad["journaled"], bad["recomputed"]) == ("verified", "path_mismatch")


def test_an_honest_journal_audits_clean(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "d"
    replay([_recording(tmp_path / "s.jsonl", 2)], SETTINGS, data)
    assert main(["audit", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"verified\s+2\b", out) and "0 disagree" in out


def test_the_report_has_a_fairness_section(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "d"
    replay([_recording(tmp_path / "s.jsonl", 3)], SETTINGS, data)
    assert main(["report", "--data-dir", str(data), "--json"]) == 0
    fairness = json.loads(capsys.readouterr().out)["fairness"]
    assert fairness["games"] == 3
    assert fairness["hazard"]["ticks_at_risk"] == sum(
        r for (r,) in _rows(data, "SELECT rug_tick FROM audits"))
    assert fairness["verdict"].startswith("consistent with the published rules")
    assert main(["report", "--data-dir", str(data)]) == 0
    assert "Fairness: consistent with the published rules" in capsys.readouterr().out


def test_an_empty_report_still_says_what_the_meter_saw(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "d").mkdir()
    assert main(["report", "--data-dir", str(tmp_path / "d"), "--json"]) == 0
    assert "nothing to judge" in json.loads(capsys.readouterr().out)["fairness"]["verdict"]


def _journal_with(tmp_path: Path, *events: tuple[str, str, str]) -> Path:
    data = tmp_path / "d"
    with open_journal(data) as journal:
        for i, (reason, new, detail) in enumerate(events):
            journal.write(RiskEvent("r0", 1000 + i, "active", new, reason, detail))
    return data


def test_a_venue_halt_survives_a_restart_until_resumed(tmp_path: Path) -> None:
    data = _journal_with(tmp_path, ("venue_integrity", "halted", "game g1 path_mismatch: x"))
    paths = data_paths(data)
    with open_journal(data) as journal:
        assert venue_halt_in_force(journal) == "game g1 path_mismatch: x"
        restored = restore_state(journal, paths, "paper", "r1")
        assert restored.risk.trading_state is TradingState.HALTED
        assert restored.risk.venue_halted
    # a second restart still halts, without nesting the restored note
    with open_journal(data) as journal:
        assert venue_halt_in_force(journal) == "game g1 path_mismatch: x"
        journal.write(RiskEvent("r1", 5000, "halted", "active", "operator_resume", "cli"))
    with open_journal(data) as journal:
        assert venue_halt_in_force(journal) is None
        assert restore_state(journal, paths, "paper", "r2").risk.venue_halted is False


def test_a_kill_mode_mismatch_is_left_to_the_kill_latch(tmp_path: Path) -> None:
    data = _journal_with(tmp_path, ("venue_integrity", "killed", "game g1"))
    with open_journal(data) as journal:
        assert venue_halt_in_force(journal) is None


def test_audit_records_round_trip(tmp_path: Path) -> None:
    record = AuditRecord("r", 1, "g", "path_mismatch", "v3", "ab" * 32, "cd" * 32, 92, 0, 91,
                         40, 1.25, 1.2500000000000002, "tick 40: ...", '{"claims": []}')
    with open_journal(tmp_path / "d") as journal:
        journal.write(record)
        assert journal.records(AuditRecord) == [record]


def test_offline_status_counts_the_journaled_audits(tmp_path: Path) -> None:
    from rugsd.daemon.cli_control import format_offline, offline_status

    data = tmp_path / "d"
    replay([_recording(tmp_path / "t.jsonl", 2, "late-rug")], SETTINGS, data)
    report = offline_status(data, "no control socket")
    assert report["journal"]["audits"] == {"path_mismatch": 2}
    text = format_offline(report)
    assert "audit      fair 0/2 verified; 2 mismatches, 0 unverifiable" in text
    assert "last state halted (venue_integrity)" in text
