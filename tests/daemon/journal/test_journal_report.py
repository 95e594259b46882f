"""``rugsd report``: figures equal an independent recomputation; CLI behaviour."""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rugsd.daemon.cli_report import add_parser
from rugsd.daemon.journal import Journal, KillEvent, RiskEvent, open_journal
from rugsd.daemon.journal.export import export_days
from rugsd.daemon.journal.report import build_report, parse_since

REQUIRED_KEYS = {
    "pnl_sol", "roi", "win_rate", "trades", "sidebets", "action_distribution",
    "refusals_by_reason", "games", "runs", "empty", "window", "orders", "risk_events",
    "kill_events", "verdicts", "dataset", "staked_sol", "pnl_lamports", "warnings",
}  # fmt: skip


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="rugsd")
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["report", *argv])
    return args.func(args)


def _expected(sessions) -> dict:
    """The report's headline figures recomputed straight from the simulated records."""
    fills = [f for s in sessions for f in s.fills]
    decisions = [d for s in sessions for d in s.decisions]
    kinds = Counter(f.kind for f in fills)
    per_game: dict[tuple[str, str], int] = {}
    for f in fills:
        per_game[(f.run_id, f.game_id)] = per_game.get((f.run_id, f.game_id), 0) + f.realised
    pnl = sum(f.realised for f in fills)
    staked = sum(f.amount for f in fills if f.kind in ("buy", "sidebet_place"))
    sidebet_pnl = sum(f.realised for f in fills if f.kind.startswith("sidebet"))
    return {
        "pnl_lamports": pnl,
        "roi": pnl / staked,
        "win_rate": sum(v > 0 for v in per_game.values()) / len(per_game),
        "trades": {
            "buys": kinds["buy"],
            "sells": kinds["sell"],
            "rug_sells": kinds["rug_sell"],
            "total": kinds["buy"] + kinds["sell"] + kinds["rug_sell"],
        },
        "sidebets": {
            "placed": kinds["sidebet_place"],
            "won": kinds["sidebet_win"],
            "lost": kinds["sidebet_loss"],
            "pnl_sol": sidebet_pnl / 1e9,
        },
        "action_distribution": dict(Counter(d.intent_action for d in decisions)),
        "refusals_by_reason": dict(Counter(d.reason for d in decisions if d.verdict == "refused")),
        "games_seen": sum(len(s.games) for s in sessions),
        "games_traded": len(per_game),
    }


@pytest.fixture
def two_runs(tmp_path: Path, make_session):
    """Two runs an hour apart in one data dir (recent, so relative --since applies)."""
    now = int(time.time() * 1000)
    a = make_session(run_id="run-a", seed=7, n_games=6, start_ts=now - 3 * 3_600_000)
    b = make_session(run_id="run-b", seed=8, n_games=5, start_ts=now - 3_600_000)
    with open_journal(tmp_path) as journal:
        journal.write_many(a.records)
        journal.write_many(b.records)
        journal.write(RiskEvent("run-b", now - 3_000_000, "active", "halted", "stale_feed", ""))
        journal.write(KillEvent("run-b", now - 2_000_000, "cli", "test"))
        export_days(journal.conn, tmp_path / "dataset")  # ticks reach Parquet by export
    return tmp_path, a, b


def test_report_figures_equal_an_independent_recomputation(two_runs) -> None:
    data_dir, a, b = two_runs
    exp = _expected([a, b])

    report = build_report(data_dir)

    assert report["empty"] is False
    assert report["pnl_lamports"] == exp["pnl_lamports"]
    # the accounting's own running total agrees too (both runs start with realised 0)
    assert report["pnl_lamports"] == a.account.realised + b.account.realised
    assert report["pnl_sol"] == pytest.approx(exp["pnl_lamports"] / 1e9)
    assert report["roi"] == pytest.approx(exp["roi"])
    assert report["win_rate"] == pytest.approx(exp["win_rate"])
    assert report["trades"] == exp["trades"]
    for key in ("placed", "won", "lost"):
        assert report["sidebets"][key] == exp["sidebets"][key]
    assert report["sidebets"]["pnl_sol"] == pytest.approx(exp["sidebets"]["pnl_sol"])
    assert report["action_distribution"] == exp["action_distribution"]
    assert report["refusals_by_reason"] == exp["refusals_by_reason"]
    assert report["games"]["seen"] == exp["games_seen"]
    assert report["games"]["traded"] == exp["games_traded"]
    assert report["orders"] == {"filled": len(a.orders) + len(b.orders)}
    assert report["risk_events"]["by_transition"] == {"active->halted": 1}
    assert [k["source"] for k in report["kill_events"]] == ["cli"]
    assert report["dataset"]["ticks"]["rows"] == a.ticks + b.ticks


def test_report_breaks_figures_down_per_run(two_runs) -> None:
    data_dir, a, b = two_runs
    runs = {r["run_id"]: r for r in build_report(data_dir)["runs"]}
    assert list(runs) == ["run-a", "run-b"]  # ordered by start
    for s in (a, b):
        exp = _expected([s])
        assert runs[s.run_id]["pnl_lamports"] == exp["pnl_lamports"]
        assert runs[s.run_id]["trades"] == exp["trades"]
        assert runs[s.run_id]["decisions"] == len(s.decisions)
        assert runs[s.run_id]["mode"] == "paper"


def test_json_flag_prints_one_object_with_the_documented_keys(two_runs, capsys) -> None:
    data_dir, a, b = two_runs
    rc = _cli(["--data-dir", str(data_dir), "--json"])
    out = capsys.readouterr().out
    report = json.loads(out)
    assert rc == 0
    assert out.count("\n") == 1
    assert REQUIRED_KEYS <= set(report)
    assert report["pnl_lamports"] == _expected([a, b])["pnl_lamports"]


def test_since_relative_duration_keeps_only_the_later_run(two_runs, capsys) -> None:
    data_dir, _, b = two_runs
    rc = _cli(["--data-dir", str(data_dir), "--json", "--since", "2h"])
    report = json.loads(capsys.readouterr().out)
    exp = _expected([b])
    assert rc == 0
    assert [r["run_id"] for r in report["runs"]] == ["run-b"]
    assert report["pnl_lamports"] == exp["pnl_lamports"]
    assert report["trades"] == exp["trades"]
    assert report["action_distribution"] == exp["action_distribution"]


def test_since_iso_timestamp_filters_like_the_duration(two_runs) -> None:
    data_dir, _, b = two_runs
    start_b = b.records[0].started_ts_ms
    iso = datetime.fromtimestamp(start_b / 1000, tz=UTC).isoformat()
    report = build_report(data_dir, parse_since(iso, 0))
    assert report["trades"] == _expected([b])["trades"]
    assert report["window"]["since_ms"] == start_b


def test_text_mode_prints_the_headline_figures(two_runs, capsys) -> None:
    data_dir, a, b = two_runs
    rc = _cli(["--data-dir", str(data_dir)])
    out = capsys.readouterr().out
    pnl = _expected([a, b])["pnl_lamports"] / 1e9
    assert rc == 0
    assert f"{pnl:+.6f} SOL" in out
    assert "run-a" in out and "run-b" in out
    assert "Refusals by reason" in out


def test_empty_journal_prints_a_clear_message_and_exits_0(tmp_path: Path, capsys) -> None:
    no_journal = _cli(["--data-dir", str(tmp_path)])
    first = capsys.readouterr().out
    Journal(tmp_path / "journal.sqlite").close()
    empty_tables = _cli(["--data-dir", str(tmp_path)])
    second = capsys.readouterr().out
    as_json = _cli(["--data-dir", str(tmp_path), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert (no_journal, empty_tables, as_json) == (0, 0, 0)
    assert "empty" in first and "empty" in second
    assert report["empty"] is True and REQUIRED_KEYS <= set(report)
    assert report["roi"] is None and report["win_rate"] is None


def test_missing_data_dir_is_an_error_exit_1(tmp_path: Path, capsys) -> None:
    rc = _cli(["--data-dir", str(tmp_path / "nope")])
    err = capsys.readouterr().err
    assert rc == 1
    assert "does not exist" in err


def test_bad_since_is_an_error_exit_1(tmp_path: Path, capsys) -> None:
    rc = _cli(["--data-dir", str(tmp_path), "--since", "yesterday-ish"])
    assert rc == 1
    assert "--since" in capsys.readouterr().err


@given(n=st.integers(0, 10_000), unit=st.sampled_from("smhdwSMHDW"), now=st.integers(0, 2**45))
def test_parse_since_durations(n: int, unit: str, now: int) -> None:
    ms = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
    assert parse_since(f"{n}{unit}", now) == now - n * ms[unit.lower()]


@given(ts=st.integers(0, 4_000_000_000_000))
def test_parse_since_iso_round_trips_utc_and_treats_naive_as_utc(ts: int) -> None:
    when = datetime.fromtimestamp(ts / 1000, tz=UTC)
    naive = when.replace(tzinfo=None).isoformat()
    assert parse_since(when.isoformat(), 0) == ts
    assert parse_since(naive, 0) == ts


@given(text=st.text(max_size=30))
def test_parse_since_rejects_garbage_with_value_error_only(text: str) -> None:
    try:
        parse_since(text, 10**12)
    except ValueError as err:
        assert "--since" in str(err)


def test_the_report_leaves_duckdbs_default_connection_usable(two_runs) -> None:
    # regression: counting the Parquet rows with fetchone() left the process-wide DuckDB
    # connection holding an unfinished result; the next duckdb.sql() in the process failed
    import duckdb

    data_dir, _a, _b = two_runs
    assert build_report(data_dir)["dataset"]["ticks"]["rows"] > 0
    assert duckdb.sql("SELECT 42").fetchall() == [(42,)]
