"""``rugsd audit``: the 11 real games verify (exit 0), a tampered capture is a mismatch with
its evidence (exit 1), a recording without seeds is unverifiable and says why, and bad
input is one line (exit 2)."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from audit_helpers import RAW_SAMPLES, REAL_GAME_IDS, RECORDING, payload, raw_lines, write_raw

from rugsd.daemon.cli import main


def _audit(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, dict]:
    code = main(["audit", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_the_eleven_real_games_verify(capsys: pytest.CaptureFixture) -> None:
    code, doc = _audit(capsys, str(RAW_SAMPLES))
    assert code == 0
    assert doc["counts"] == {"verified": 11, "hash_mismatch": 0, "path_mismatch": 0,
                             "unverifiable": 0}
    assert sorted(a["game_id"] for a in doc["audits"]) == sorted(REAL_GAME_IDS)
    live = next(a for a in doc["audits"] if a["game_id"] == "20251207-e8186dbf38e046d1")
    assert live["entry_tick"] == 129 and live["commitment_seen_live"] is True
    assert live["rug_tick_seed"] == live["rug_tick_observed"] == 266
    assert live["counts"]["live"] > 0 and live["counts"]["backfill"] == 129
    assert doc["fairness"]["games"] == 11


def test_the_real_games_verify_through_the_installed_command() -> None:
    done = subprocess.run([sys.executable, "-m", "rugsd", "audit", str(RAW_SAMPLES)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert re.search(r"verified\s+11\b", done.stdout)
    assert "consistent with the published rules" in done.stdout


def _tamper_live_price(tmp_path: Path, tick: int) -> tuple[Path, float, float]:
    lines = raw_lines()
    for line in lines:
        p = payload(line)
        if line["event_type"] == "gameStateUpdate" and p.get("tickCount") == tick \
                and not p.get("rugged") and "prices" not in p:
            true = p["price"]
            p["price"] = math.nextafter(true, math.inf)  # one unit in the last place
            return write_raw(tmp_path / "tampered.jsonl", lines), true, p["price"]
    raise AssertionError(f"no live tick {tick} in the fixture")


def test_a_capture_with_one_price_off_by_one_ulp_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path, true, shown = _tamper_live_price(tmp_path, 135)
    code, doc = _audit(capsys, str(path))
    assert code == 1 and doc["ok"] is False
    assert doc["counts"]["path_mismatch"] == 1 and doc["counts"]["verified"] == 10
    m = doc["mismatches"][0]
    assert m["game_id"] == "20251207-e8186dbf38e046d1"
    assert m["first_mismatch"]["tick"] == 135
    assert m["first_mismatch"]["source"] == "live"
    assert (m["first_mismatch"]["expected"], m["first_mismatch"]["observed"]) == (true, shown)


def test_a_capture_revealing_another_seed_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    lines = raw_lines()
    victim = "20251207-1e01ac417e8043ca"
    for line in lines:
        for game in payload(line).get("gameHistory") or []:
            if game["id"] == victim:
                game["provablyFair"]["serverSeed"] = "f" * 64
    code, doc = _audit(capsys, str(write_raw(tmp_path / "seed.jsonl", lines)))
    assert code == 1
    assert [m["game_id"] for m in doc["mismatches"]] == [victim]
    assert doc["mismatches"][0]["result"] == "hash_mismatch"


def test_a_recording_without_seeds_is_unverifiable_and_says_why(
    capsys: pytest.CaptureFixture,
) -> None:
    code, doc = _audit(capsys, str(RECORDING))
    assert code == 0
    assert doc["counts"]["unverifiable"] == 1 and doc["games"] == 1
    (reason,) = doc["unverifiable_reasons"]
    assert "seed never revealed" in reason
    assert doc["fairness"]["games"] == 1  # its rug tick still counts for the meter


def test_the_human_output_lists_the_mismatch_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path, _true, _shown = _tamper_live_price(tmp_path, 137)
    assert main(["audit", str(path)]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH 20251207-e8186dbf38e046d1: path_mismatch" in out
    assert "first differing tick 137 (live)" in out


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["audit", str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rugsd audit: no such file") and err.count("\n") == 1
    assert main(["audit"]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["audit", str(tmp_path / "empty")]) == 2
    assert "no *.jsonl" in capsys.readouterr().err


def test_garbage_lines_are_counted_not_fatal(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    lines = [json.dumps(line) for line in raw_lines()]
    lines.insert(3, '{"cut": ')
    lines.insert(5, '{"timestamp": "2025-12-06T19:57:10", "event_type": "gameStateUpdate", '
                    '"data": {"gameId": 7}}')
    path = tmp_path / "messy.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code, doc = _audit(capsys, str(path))
    assert code == 0 and doc["counts"]["verified"] == 11
    assert doc["inputs"][0]["malformed"] == 1 and doc["inputs"][0]["skipped"] == 1


def test_plots_are_written_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is in the train extra")
    code, doc = _audit(capsys, str(RAW_SAMPLES), "--plots", str(tmp_path / "plots"))
    assert code == 0
    assert Path(doc["fairness"]["plot"]).is_file()
