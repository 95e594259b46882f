"""The daemon's terminal output: the real daemon on the simulator for a few games, in
both formats; every order, fill and game line carries the journal's numbers."""

from __future__ import annotations

import re
import signal
import socket
from pathlib import Path

from daemon_proc import DaemonProc, wait_for

# buy in every presale, sell 3 ticks in: orders and fills in every game
CHURN = {"RUGSD_STRATEGY__MAX_HOLD_TICKS": "3"}
# a daily loss limit below one bet: every presale tick's entry is refused (loss_budget)
REFUSING = {"RUGSD_RISK__MAX_DAILY_LOSS_SOL": "0.005"}
GAMES = 3


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(tmp_path: Path, fmt: str, env: dict[str, str]) -> tuple[DaemonProc, str]:
    d = DaemonProc(tmp_path / "data", _port(), env, extra_args=("--log-format", fmt))
    try:
        d.start().wait_ready()
        wait_for(lambda: len(d.query("SELECT game_id FROM games")) >= GAMES, 60,
                 f"{GAMES} finished games", d.alive)
        assert d.stop(signal.SIGINT) == 0
    finally:
        d.close()
    return d, d.log_path.read_text()


def _journal_games(d: DaemonProc) -> dict[str, dict]:
    games = {}
    for game_id, rug_tick in d.query("SELECT game_id, rug_tick FROM games"):
        fills = d.query("SELECT order_id, realised, balance_after FROM fills WHERE game_id=? "
                        "ORDER BY rowid", (game_id,))
        games[game_id] = {
            "rug_tick": rug_tick,
            "trades": sum(1 for f in fills if f[0] is not None),
            "pnl": sum(f[1] for f in fills),
            "balance": fills[-1][2] if fills else None,
        }
    return games


def test_human_lines_carry_the_journals_figures(tmp_path: Path) -> None:
    d, out = _run(tmp_path, "human", CHURN)
    assert "rugsd PAPER (paper)" in out and "Ctrl-C" in out and "limits    max bet" in out
    assert not re.search(r"\d{13}", out.split("rugsd PAPER", 1)[1].split("rugsd stopped")[0]
                         .replace(d.query("SELECT run_id FROM runs")[0][0], "")
                         .replace(str(d.data_dir), "")), "epoch ms in human output"
    summaries = {
        m["game"]: m for m in re.finditer(
            r"game (?P<game>\S+) rugged at tick (?P<rug>\d+), peak [\d.]+x  trades "
            r"(?P<trades>\d+)  P&L (?P<pnl>[+-]\d+\.\d{4}) SOL  balance "
            r"(?P<bal>\d+\.\d{4}) SOL  (?P<state>[A-Z]+)", out)
    }
    journal = _journal_games(d)
    summarised = [g for g in journal if g in summaries]
    assert len(summarised) >= GAMES, out[-3000:]
    traded = 0
    for game_id in summarised:
        line, want = summaries[game_id], journal[game_id]
        assert int(line["rug"]) == want["rug_tick"]
        assert int(line["trades"]) == want["trades"]
        assert line["pnl"] == f"{want['pnl'] / 1e9:+.4f}"
        if want["balance"] is not None:
            assert line["bal"] == f"{want['balance'] / 1e9:.4f}"
        traded += want["trades"]
    assert traded > 0, "the churn strategy traded in none of the games"
    # one line per fill, with the journal's amount and balance
    fills = d.query("SELECT game_id, tick, kind, amount, balance_after FROM fills")
    for game_id, tick, kind, amount, balance in fills:
        if game_id in summarised:
            assert re.search(rf"fill  {kind}\s+{amount / 1e9:.4f} SOL @ [\d.]+x  P&L \S+ "
                             rf"balance {balance / 1e9:.4f} SOL  game {game_id} tick {tick}",
                             out), (game_id, tick, kind)
    assert "lamports" not in out.split("rugsd PAPER", 1)[1]
    # an order's line comes before its fill's (a paper fill is stepped in from inside
    # the order's submit; it printed first once)
    for game_id in summarised:
        lines = [ln for ln in out.splitlines() if f"game {game_id}" in ln]
        kinds = [("order" if " order " in f" {ln.split(maxsplit=2)[1]} " else
                  "fill" if ln.split(maxsplit=2)[1] == "fill" else "") for ln in lines]
        if "fill" in kinds and "order" in kinds:
            assert kinds.index("order") < kinds.index("fill"), lines[:4]


def test_json_lines_carry_the_journals_figures(tmp_path: Path) -> None:
    d, out = _run(tmp_path, "json", REFUSING)
    events = d.log_events()
    assert len(events) == sum(1 for line in out.splitlines() if line.strip()), \
        "a non-JSON line in JSON mode"
    banner = [e for e in events if e["event"] == "banner"]
    assert banner and banner[0]["mode"] == "paper" and banner[0]["limits"]["max_bet"] > 0
    games = {e["game_id"]: e for e in events if e["event"] == "game"}
    journal = _journal_games(d)
    summarised = [g for g in journal if g in games]
    assert len(summarised) >= GAMES
    for game_id in summarised:
        e, want = games[game_id], journal[game_id]
        assert e["rug_tick"] == want["rug_tick"]
        assert e["trades"] == want["trades"]
        assert e["pnl_lamports"] == want["pnl"]
        if want["balance"] is not None:
            assert e["balance_lamports"] == want["balance"]
        refused = dict(d.query(
            "SELECT reason, count(*) FROM decisions WHERE game_id=? AND verdict='refused' "
            "AND ts_ms <= ? GROUP BY reason", (game_id, e["ts_ms"])))
        assert e["refused"] == refused
    # refusals come as one count per reason per game, not one line per tick
    assert all(games[g]["refused"].get("loss_budget", 0) >= 1 for g in summarised)
    assert not [e for e in events if "refus" in e["event"]]
    fills = [e for e in events if e["event"] == "fill"]
    assert len(fills) == len(d.query("SELECT 1 FROM fills"))
    orders = [e for e in events if e["event"] == "order" and e["status"] == "sent"]
    assert len(orders) == len(d.query("SELECT DISTINCT order_id FROM orders"))
