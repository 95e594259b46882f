"""The Textual TUI (``run_test`` + Pilot) against a REAL ``rugsd run --paper`` subprocess
on the embedded simulator (loopback, x20, fixed seed): the live snapshot stream drives the
widgets, and ``k`` / ``p`` / ``r`` / ``f`` do what they say — checked through the daemon's
own answers, its snapshots, ``rugsd status --json`` and its journal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from daemon_proc import DaemonProc
from e2e_live import (
    CHURN,
    ENTRY,
    HOLD,
    TICK_MS,
    count,
    flat_and_idle,
    holding_in_active,
    now_ms,
    rugsd_async,
    status_json,
    until,
)

from rugsd.risk.killswitch import latch_path
from rugsd.tui.app import RugsdTui
from rugsd.tui.link import LinkStatus
from rugsd.tui.widgets.banner import Banner
from rugsd.tui.widgets.chart import PriceChart
from rugsd.tui.widgets.confirm import ConfirmScreen
from rugsd.tui.widgets.decisions import DecisionLog
from rugsd.tui.widgets.header import StatusHeader
from rugsd.tui.widgets.health import HealthLine
from rugsd.tui.widgets.positions import AccountPanel
from rugsd.tui.widgets.risk import RiskPanel

WHO = "tui:pytest@e2e"
SIZE = (100, 30)

pytestmark = pytest.mark.timeout(90)


def _app(d: DaemonProc) -> RugsdTui:
    return RugsdTui(d.sock, who=WHO, retry_min_s=0.1, retry_max_s=0.5, stale_after_s=3.0)


def _text(widget: Any) -> str:
    return widget.render().plain


def _banner(app: RugsdTui) -> str:
    banner = app.query_one(Banner)
    return banner.content.plain if banner.display else ""


def _game(app: RugsdTui) -> tuple:
    g = app.snapshot.game
    return g.game_id, g.phase, g.tick, g.price


async def _command(
    pilot: Any, app: RugsdTui, key: str, confirm: bool, d: DaemonProc
) -> tuple[dict[str, Any], int]:
    """Press ``key`` (and ``y`` in the confirmation); the daemon's answer and when."""
    answered = len(app.answers)
    await pilot.press(key)
    if confirm:
        await until(
            lambda: isinstance(app.screen, ConfirmScreen),
            5,
            f"the confirmation dialog after {key!r}",
        )
    pressed_ms = now_ms()
    if confirm:
        await pilot.press("y")
    await until(lambda: len(app.answers) > answered, 10, f"the daemon's answer to {key!r}", d)
    answer = app.answers[-1]
    assert answer.get("type") == "result", answer
    return answer, pressed_ms


def _command_ts(d: DaemonProc, command: str) -> int:
    """``ts_ms`` of the latest journaled operator command ``command`` sent by the TUI."""
    rows = d.query(
        "SELECT ts_ms, who FROM operator_commands WHERE command = ? ORDER BY id DESC LIMIT 1",
        (command,),
    )
    assert rows, f"no {command!r} in operator_commands"
    assert rows[0][1] == WHO, rows
    return rows[0][0]


async def _balance_matches_everywhere(app: RugsdTui, d: DaemonProc) -> float:
    """With nothing that can move the balance, it is the same in ``rugsd status --json``,
    the TUI's account panel and the journal's last fill."""
    await until(lambda: flat_and_idle(d.snapshot()), 20, "a flat, idle account", d)
    status = await status_json(d)
    assert status["daemon_running"] is True
    balance = status["snapshot"]["account"]["balance_sol"]
    panel = app.query_one(AccountPanel)
    await until(
        lambda: (
            app.snapshot.account.balance_sol == balance
            and f"balance {balance:.4f} SOL" in _text(panel)
        ),
        5,
        f"the TUI to show the balance {balance:.4f} SOL",
        d,
    )
    last_fill = d.query("SELECT balance_after FROM fills ORDER BY id DESC LIMIT 1")
    assert last_fill and last_fill[0][0] / 1e9 == pytest.approx(balance, abs=1e-9)
    return balance


async def test_tui_live_stream_updates_widgets_and_pause_resume(
    live_daemon: Callable[..., DaemonProc],
) -> None:
    d = live_daemon(env=CHURN)
    app = _app(d)
    async with app.run_test(size=SIZE) as pilot:
        # the live stream fills every widget
        await until(
            lambda: app.snapshot is not None and app.snapshot.game.tick is not None,
            10,
            "a first snapshot in the TUI",
            d,
        )
        first, first_title = _game(app), app.query_one(PriceChart).border_title
        await until(
            lambda: (
                _game(app)[2:] != first[2:]
                and app.query_one(PriceChart).border_title != first_title
            ),
            5,
            "the game tick/price to move in the TUI",
            d,
        )
        assert app.link.status is LinkStatus.CONNECTED
        header = _text(app.query_one(StatusHeader))
        assert "PAPER" in header and "presale_target" in header and "● connected" in header
        assert "feed ● ok" in _text(app.query_one(HealthLine))
        assert "ACTIVE" in _text(app.query_one(RiskPanel))
        log = app.query_one(DecisionLog)
        order_line = await until(
            lambda: next((x for x in log.entries if " order " in x and "buy" in x), None),
            15,
            "a buy order in the decision log",
            d,
        )
        tail = order_line.split(" order ", 1)[1].strip().lstrip("…")  # the id (or its tail)
        journal_ids = [r[0] for r in d.query("SELECT order_id FROM orders")]
        assert any(oid.endswith(tail) for oid in journal_ids), (order_line, journal_ids[-3:])

        # p: HALTED by operator, no orders after
        answer, _ = await _command(pilot, app, "p", False, d)
        assert answer["ok"] is True and answer["risk"]["state"] == "HALTED", answer
        assert answer["risk"]["flags"]["operator_paused"] is True
        pause_ts = _command_ts(d, "pause")
        risk_text = _text(app.query_one(RiskPanel))
        assert "HALTED" in risk_text and "paused" in risk_text
        await until(
            lambda: count(
                d,
                "SELECT count(*) FROM decisions WHERE ts_ms > ? AND intent_action = 'buy' "
                "AND verdict = 'refused' AND reason = 'state_halted'",
                (pause_ts,),
            ),
            20,
            "the next presale buy refused as halted",
            d,
        )
        await _balance_matches_everywhere(app, d)
        # a pause blocks entries; exits stay allowed (issue 10 #12)
        late = d.query(
            "SELECT order_id, action, ts_ms FROM orders WHERE ts_ms > ? "
            "AND action IN ('buy', 'sidebet')", (pause_ts + TICK_MS,)
        )
        assert late == [], f"entries sent while paused: {late}"
        assert (await status_json(d))["trading_state"] == "HALTED"

        # r: ACTIVE again, and the strategy's next buy goes out
        answer, _ = await _command(pilot, app, "r", False, d)
        assert answer["ok"] is True and answer["risk"]["state"] == "ACTIVE", answer
        resume_ts = _command_ts(d, "resume")
        assert "ACTIVE" in _text(app.query_one(RiskPanel))
        await until(
            lambda: count(
                d, "SELECT count(*) FROM orders WHERE action = 'buy' AND ts_ms > ?", (resume_ts,)
            ),
            20,
            "a buy after resume",
            d,
        )
        await until(
            lambda: (
                app.snapshot.risk.state == "ACTIVE" and not app.snapshot.risk.flags.operator_paused
            ),
            5,
            "the stream to show ACTIVE",
            d,
        )
        assert "paused" not in _text(app.query_one(RiskPanel))


async def test_tui_live_kill_key_stops_entries_within_one_tick_until_arm(
    live_daemon: Callable[..., DaemonProc],
) -> None:
    d = live_daemon(env=HOLD)
    app = _app(d)
    async with app.run_test(size=SIZE) as pilot:
        await until(
            lambda: holding_in_active(d.snapshot()), 20, "an open position in the active phase", d
        )
        await until(
            lambda: "flat" not in _text(app.query_one(AccountPanel)),
            5,
            "the TUI to show the position",
            d,
        )
        assert count(d, f"SELECT count(*) FROM orders WHERE action IN {ENTRY}") >= 1
        assert _banner(app) == ""

        answer, pressed_ms = await _command(pilot, app, "k", True, d)

        # the daemon's first word after the kill already says KILLED (latched)
        assert answer["ok"] is True, answer
        assert answer["risk"]["state"] == "KILLED" and answer["risk"]["kill_latched"] is True
        assert d.snapshot()["risk"]["state"] == "KILLED"
        kills = d.query("SELECT ts_ms, source, reason FROM kill_events")
        assert len(kills) == 1, kills
        kill_ts, source, _reason = kills[0]
        assert source == "tui"
        assert kill_ts >= pressed_ms - 1, "the journaled kill is the one the TUI sent"
        assert _command_ts(d, "kill") >= pressed_ms - 1
        assert latch_path(d.run_dir).exists()
        await until(lambda: "KILLED" in _banner(app), 5, "the KILLED banner", d)
        assert "KILLED (latched)" in _text(app.query_one(RiskPanel))
        assert app.screen.has_class("-killed")

        # the strategy keeps asking; every entry is refused from the very next decision on
        await until(
            lambda: count(
                d,
                f"SELECT count(*) FROM decisions WHERE ts_ms > ? AND intent_action IN {ENTRY} "
                "AND verdict = 'refused' AND reason = 'state_killed'",
                (kill_ts,),
            ),
            25,
            "the next presale entry refused as killed",
            d,
        )
        states = d.query("SELECT DISTINCT trading_state FROM decisions WHERE ts_ms > ?", (kill_ts,))
        assert states == [("killed",)], f"decisions after the kill in states {states}"
        late = d.query(
            f"SELECT order_id, ts_ms FROM orders WHERE action IN {ENTRY} AND ts_ms > ?",
            (kill_ts + TICK_MS,),
        )
        assert late == [], f"entry orders after the kill: {late}"
        after = d.query("SELECT action, percentage FROM orders WHERE ts_ms > ?", (kill_ts,))
        assert all(o == ("sell", 100) for o in after), after  # only the flattening sell
        await until(lambda: flat_and_idle(d.snapshot()), 20, "the position closed", d)
        closed = count(
            d,
            "SELECT count(*) FROM fills WHERE ts_ms >= ? AND kind IN ('sell', 'rug_sell')",
            (kill_ts,),
        )
        assert closed >= 1, "the open position was neither flattened nor rug-sold"
        await _balance_matches_everywhere(app, d)
        status = await status_json(d)
        assert status["trading_state"] == "KILLED" and status["kill_latched"] is True
        print(
            f"TUI kill: y pressed -> kill journaled {kill_ts - pressed_ms} ms; "
            f"{count(d, 'SELECT count(*) FROM decisions WHERE ts_ms > ?', (kill_ts,))} "
            "decisions since, all KILLED"
        )

        # clearing the latch from the CLI: the TUI sees ACTIVE, trading resumes
        armed_ms = now_ms()
        rc, out, err = await rugsd_async("arm", "--yes", "--data-dir", str(d.data_dir))
        assert rc == 0, err
        assert "armed" in out
        assert not latch_path(d.run_dir).exists()
        await until(
            lambda: app.snapshot.risk.state == "ACTIVE" and not app.kill_latched,
            5,
            "the TUI to show ACTIVE after arm",
            d,
        )
        arms = d.query(
            "SELECT result FROM operator_commands WHERE command = 'arm' AND ts_ms >= ?", (armed_ms,)
        )
        assert arms == [("active",)], arms
        assert _banner(app) == ""
        assert not app.screen.has_class("-killed")
        await until(
            lambda: count(
                d, "SELECT count(*) FROM orders WHERE action = 'buy' AND ts_ms > ?", (armed_ms,)
            ),
            20,
            "a buy after arming",
            d,
        )


async def test_tui_live_flatten_key_sells_the_position_then_reducing_until_resume(
    live_daemon: Callable[..., DaemonProc],
) -> None:
    d = live_daemon(env=HOLD)
    app = _app(d)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.snapshot is not None, 10, "a first snapshot", d)
        sells: list[tuple] = []
        for _attempt in range(3):  # the rug may beat the flatten to the position: retry
            await until(
                lambda: holding_in_active(d.snapshot(), max_tick=30),
                25,
                "an open position early in a game",
                d,
            )
            answer, _ = await _command(pilot, app, "f", True, d)
            assert answer["ok"] is True and answer["risk"]["state"] == "REDUCING", answer
            flatten_ts = _command_ts(d, "flatten")
            await until(lambda: flat_and_idle(d.snapshot()), 10, "the position closed", d)
            sells = d.query(
                "SELECT order_id, status FROM orders WHERE action = 'sell' AND "
                "percentage = 100 AND ts_ms >= ?",
                (flatten_ts,),
            )
            if sells:
                break
            # the game rugged before the flatten arrived: nothing to sell; go again
            answer, _ = await _command(pilot, app, "r", False, d)
            assert answer["risk"]["state"] == "ACTIVE", answer
        assert sells, "no flattening sell in three attempts"
        assert len(sells) == 1, sells
        assert count(d, "SELECT count(*) FROM fills WHERE order_id = ?", (sells[0][0],)) == 1

        # flat now, and still REDUCING: exits only until resume
        assert d.snapshot()["risk"]["state"] == "REDUCING"
        await until(
            lambda: (
                app.snapshot.risk.state == "REDUCING"
                and "REDUCING" in _text(app.query_one(RiskPanel))
                and "flat" in _text(app.query_one(AccountPanel))
            ),
            5,
            "the TUI to show REDUCING and flat",
            d,
        )
        await until(
            lambda: count(
                d,
                "SELECT count(*) FROM decisions WHERE ts_ms > ? AND intent_action = 'buy' "
                "AND verdict = 'refused' AND reason = 'state_reducing'",
                (flatten_ts,),
            ),
            20,
            "the next presale buy refused as reducing",
            d,
        )
        late = d.query(
            f"SELECT order_id FROM orders WHERE action IN {ENTRY} AND ts_ms > ?", (flatten_ts,)
        )
        assert late == [], f"entries after the flatten: {late}"

        answer, _ = await _command(pilot, app, "r", False, d)
        assert answer["ok"] is True and answer["risk"]["state"] == "ACTIVE", answer
        resume_ts = _command_ts(d, "resume")
        await until(
            lambda: count(
                d, "SELECT count(*) FROM orders WHERE action = 'buy' AND ts_ms > ?", (resume_ts,)
            ),
            20,
            "a buy after resume",
            d,
        )


async def test_tui_attached_mid_game_shows_the_games_decisions_and_markers(
    live_daemon: Callable[..., DaemonProc],
) -> None:
    """Regression: a TUI opened mid-game showed an empty decision log (the snapshot only
    carried the last 50 decisions, all WAITs by then) for the current game."""
    d = live_daemon(env=HOLD)
    # well into a game with the presale buy held: the last 50 decisions are all WAITs
    snap = await until(
        lambda: (s := d.snapshot()) and holding_in_active(s) and s["game"]["tick"] >= 60 and s,
        30, "a held position 60 ticks into a game", d,
    )
    game = snap["game"]["game_id"]
    assert all(row["verdict"] == "none" for row in snap["decisions"]), "only WAITs are recent"
    (order_id,) = [r[0] for r in d.query(
        "SELECT order_id FROM orders WHERE game_id = ? AND action = 'buy'", (game,))]
    app = _app(d)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.snapshot is not None, 10, "a first snapshot in the TUI", d)
        await pilot.pause()
        log = app.query_one(DecisionLog)
        buys = [line for line in log.entries if " order " in line and "buy 0.010" in line]
        # (on a busy machine the next game's buy may be there too: the log keeps two games)
        tails = [line.split(" order ", 1)[1].split()[0].lstrip("…") for line in buys]
        assert any(order_id.endswith(tail) for tail in tails), (buys, order_id)
        if app.snapshot.game.game_id == game:  # not rugged yet: the entry marker is drawn
            assert "▲" in _text(app.query_one(PriceChart))
