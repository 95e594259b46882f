"""The daemon in browser-execution mode (``rugsd run --paper --executor browser``), end to end.

An in-process ``Daemon`` with its embedded simulator (fixed seed, 10x real time, a free
port) opens the replica page in headless Debian Chromium and clicks every approved order.
A scripted strategy trades one chosen game; the simulator's ledger (exact integers) is
the judge of what the journal says. Risk refusals must never reach the page, and faults
(a removed button, a killed browser) must fail the order once — no retry — while the
daemon keeps running.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from exec_helpers import DaemonFeed, page_clicks

from rugsd.daemon.config import Settings
from rugsd.daemon.events import Phase, SidebetEvent, TradeEvent
from rugsd.daemon.execution.browser import ExecutorState
from rugsd.daemon.execution.confirm import nano
from rugsd.daemon.execution.launch import browser_pids
from rugsd.daemon.game.accounting import Account, open_account, sol_to_lamports
from rugsd.daemon.journal import open_journal
from rugsd.daemon.journal.records import FillRecord
from rugsd.daemon.journal.recovery import restore, roll_forward
from rugsd.daemon.runtime.daemon import Daemon
from rugsd.daemon.state.view import GameView
from rugsd.strategy.base import Decision
from rugsd.strategy.intents import WAIT, Action, Intent

SEED = 187  # games of 31, 136, 53, 143, 18... ticks: a long game comes round quickly
SPEED = 10.0  # a tick every 25 ms
PLAYER = "rugsd-paper"
BET = 10_000_000  # 0.01 SOL
STAKE = 2_000_000  # 0.002 SOL
START_TIMEOUT_S = 40.0
SOL = 1_000_000_000


# ----------------------------------------------------------------------------- strategy
@dataclass
class ScriptedStrategy:
    """Plays ``script`` in the games ``allow`` picks (at their presale), else waits.

    Steps: ``buy`` (presale), ``sidebet``, ``sell50``, ``sell100`` (active). A step is done
    when the core's account shows it; with ``retry`` the intent is repeated every
    decision until then (a refusal or failure is asked again), else asked once.
    """

    allow: Callable[[GameView], bool]
    script: tuple[str, ...] = ("buy", "sidebet", "sell50", "sell100")
    games: int = 1
    retry: bool = True
    name: str = "scripted-e2e"
    played: list[str] = field(default_factory=list)
    step: int = 0
    asked: bool = False
    qty_before: int = 0
    done_tick: int = -1

    @property
    def finished(self) -> bool:
        """The last chosen game's script has been carried out."""
        return bool(self.played) and self.step >= len(self.script)

    def decide(self, view: GameView, account: Account, features: Any = None) -> Decision:
        """The script's next intent in the chosen game, WAIT otherwise."""
        if (view.phase == Phase.PRESALE and view.game_id not in self.played
                and len(self.played) < self.games and self.allow(view)):
            self.played.append(view.game_id or "")
            self.step, self.asked, self.qty_before = 0, False, account.qty
        if not self.played or view.game_id != self.played[-1]:
            return Decision(WAIT)
        while self.step < len(self.script) and self._done(self.script[self.step], account):
            self.step, self.asked, self.qty_before = self.step + 1, False, account.qty
            self.done_tick = view.tick
        if self.step >= len(self.script) or (self.asked and not self.retry):
            return Decision(WAIT)
        intent = self._intent(self.script[self.step], view)
        if intent is None:
            return Decision(WAIT)
        self.asked = True
        return Decision(intent)

    def _done(self, step: str, account: Account) -> bool:
        if step == "buy":
            return account.qty > self.qty_before
        if step == "sidebet":
            return account.sidebet is not None
        if step == "sell50":
            return 0 < account.qty < self.qty_before
        return account.qty == 0  # sell100

    def _intent(self, step: str, view: GameView) -> Intent | None:
        if step == "buy":
            return Intent(Action.BUY, BET, source="scripted:buy")
        if view.phase != Phase.ACTIVE or view.tick < 1 or view.tick < self.done_tick + 2:
            return None  # the rest trades in the active phase, a couple of ticks apart
        if step == "sidebet":
            return Intent(Action.SIDEBET, STAKE, source="scripted:sidebet")
        return Intent(Action.SELL, percentage=50 if step == "sell50" else 100,
                      source=f"scripted:{step}")


# ------------------------------------------------------------------------------ helpers
def make_settings(port: int, **risk: Any) -> Settings:
    """Browser-mode settings: embedded simulator on ``port``, seeded, 10x, headless."""
    return Settings(
        feed={"url": f"http://127.0.0.1:{port}", "connect_timeout_s": 20.0},
        sim={"host": "127.0.0.1", "port": port, "seed": SEED, "speed": SPEED,
             "starting_balance_sol": 10.0},
        paper={"player_name": PLAYER, "starting_balance_sol": 10.0},
        strategy={"name": "never"},  # replaced by the scripted strategy
        risk={"max_orders_per_minute": 1000, **risk},
        browser={"headless": True, "executable_path": "/usr/bin/chromium"},
        control={"metrics_port": 0},
        live={"enabled": False},
    )


def sim_of(daemon: Daemon) -> Any:
    """The daemon's embedded simulator."""
    assert daemon.venue is not None and daemon.venue.sim is not None
    return daemon.venue.sim


def browser_of(daemon: Daemon) -> Any:
    """The daemon's Playwright executor (its page, counts, state)."""
    return daemon.executor("browser").playwright


def runway(daemon: Daemon, ticks: int) -> Callable[[GameView], bool]:
    """``allow``: this presale's game lasts at least ``ticks`` ticks (the seed decides)."""

    def allow(view: GameView) -> bool:
        plan = sim_of(daemon).room.plan
        return plan.game_id == view.game_id and plan.rug_tick >= ticks

    return allow


async def until(pred: Callable[[], Any], timeout: float, what: str, task: asyncio.Task) -> Any:
    """Poll ``pred`` every 20 ms until truthy; fail on timeout or when the daemon died."""

    async def poll() -> Any:
        while True:
            if task.done():
                raise AssertionError(f"daemon ended while waiting for {what}: {task!r}")
            value = pred()
            if value:
                return value
            await asyncio.sleep(0.02)

    try:
        return await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None


@asynccontextmanager
async def browser_daemon(
    settings: Settings, data_dir: Path, strategy: Any
) -> AsyncIterator[tuple[Daemon, asyncio.Task]]:
    """A started browser-mode daemon (page open, account known, ticks flowing); stopped
    (browser, simulator, journal) on exit."""
    daemon = Daemon(settings, data_dir, executor="browser", strategy=strategy)
    task = asyncio.create_task(daemon.run(), name="daemon")
    try:
        await until(lambda: daemon.control is not None and daemon.core.stats["ticks"] > 0,
                    START_TIMEOUT_S, "the daemon to run", task)
        assert browser_of(daemon) is not None and browser_of(daemon).state is ExecutorState.READY
        yield daemon, task
    finally:
        daemon.stop()
        await asyncio.wait_for(task, 40)


async def get_ledger(daemon: Daemon) -> dict[str, Any]:
    """``GET /ledger/<player>`` of the simulator: the exact integer account."""
    url = f"{sim_of(daemon).url}/ledger/{PLAYER}"
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200
        return await resp.json()


def account_tuple(a: Account) -> tuple:
    """The fields the simulator's ledger has, from an ``Account``."""
    bet = a.sidebet
    return (a.balance, a.qty, a.cost, a.realised, a.credited,
            None if bet is None else (bet.start_tick, bet.end_tick, bet.stake))


def ledger_tuple(e: dict[str, Any]) -> tuple:
    """The same fields from a ledger entry."""
    bet = e["sidebet"]
    return (e["balance"], e["qty"], e["cost"], e["realised"], e["credited"],
            None if bet is None else (bet["startTick"], bet["endTick"], bet["stake"]))


def query(data_dir: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Read the (closed) journal."""
    conn = sqlite3.connect(data_dir / "journal.sqlite")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def quiet(daemon: Daemon, strategy: ScriptedStrategy) -> bool:
    """Script done, flat, no sidebet, nothing in flight: the ledger cannot move."""
    a = daemon.core.account
    return (strategy.finished and a.qty == 0 and a.sidebet is None
            and not daemon.core.open_orders and not daemon.executor("browser").in_flight)


# -------------------------------------------------------------------------------- tests
async def test_daemon_buys_sells_and_sidebets_by_clicks_and_matches_the_ledger(
    tmp_path: Path, free_port: int
) -> None:
    # Arrange: a script for the first game of >= 80 ticks; the simulator's trades of our
    # player are collected from an independent feed connection
    data_dir = tmp_path / "data"
    strategy = ScriptedStrategy(allow=lambda v: False)
    seen: list[TradeEvent | SidebetEvent] = []
    async with browser_daemon(make_settings(free_port), data_dir, strategy) as (daemon, task):
        assert browser_of(daemon).player_id == f"sim:{PLAYER}"
        feed = DaemonFeed(lambda ev: seen.append(ev) if isinstance(
            ev, TradeEvent | SidebetEvent) and ev.player_id == f"sim:{PLAYER}" else None)
        await feed.connect(sim_of(daemon).url)
        try:
            clicks0 = await page_clicks(browser_of(daemon).page)
            strategy.allow = runway(daemon, 80)

            # Act: buy in presale, sidebet, sell 50 %, sell 100 %; the sidebet expires
            await until(lambda: quiet(daemon, strategy), 40, "the script and the sidebet", task)
            ledger = await get_ledger(daemon)
            clicks = await page_clicks(browser_of(daemon).page) - clicks0
            counts = dict(browser_of(daemon).counts)
            core_account = daemon.core.account
        finally:
            await feed.close()

    # Assert: the journal's account (latest snapshot, fills rolled forward) is the ledger's
    with open_journal(data_dir) as journal:
        state = restore(journal, data_dir / "run", modes=("paper",))
        all_fills = journal.records(FillRecord, order="id")
    assert state.account is not None and state.consistent
    assert account_tuple(state.account) == ledger_tuple(ledger)
    assert account_tuple(core_account) == ledger_tuple(ledger)
    # the journaled fills alone, replayed from the starting balance, give the ledger too
    replayed, applied, consistent = roll_forward(open_account(10 * SOL), all_fills)
    assert consistent and applied == len(all_fills) == 5
    assert account_tuple(replayed) == ledger_tuple(ledger)
    snap = query(data_dir, "SELECT balance, qty, cost, realised, credited, sidebet_start "
                 "FROM positions ORDER BY id DESC LIMIT 1")[0]
    assert snap == (ledger["balance"], ledger["qty"], ledger["cost"], ledger["realised"],
                    ledger["credited"], None)
    assert ledger["balance"] < 10 * SOL  # money moved (a lost sidebet at least)

    # every order was clicked once and filled; the journal's fills are the venue's trades
    orders = query(data_dir, "SELECT action, amount, percentage, status FROM orders "
                   "ORDER BY ts_ms")
    assert orders == [("buy", BET, 0, "filled"), ("sidebet", STAKE, 0, "filled"),
                      ("sell", 0, 50, "filled"), ("sell", 0, 100, "filled")]
    fills = query(data_dir, "SELECT kind, tick, qty, amount FROM fills "
                  "WHERE order_id IS NOT NULL ORDER BY id")
    venue = [
        ("sidebet_place", e.start_tick, 0, sol_to_lamports(e.bet_amount))
        if isinstance(e, SidebetEvent) else (e.type, e.tick, nano(e.qty), sol_to_lamports(e.amount))
        for e in seen if isinstance(e, TradeEvent) or e.type == "placed"
    ]
    assert [f[0] for f in fills] == ["buy", "sidebet_place", "sell", "sell"]
    assert fills == venue
    assert fills[0][1] == 0 and query(data_dir, "SELECT price FROM fills WHERE kind = 'buy'") \
        == [(1.0,)]  # the presale fill is at exactly 1.00x
    assert query(data_dir, "SELECT count(*) FROM fills WHERE kind = 'sidebet_loss'") == [(1,)]
    assert counts["orders"] == counts["filled"] == counts["fires"] == 4
    assert counts["failed"] == counts["rejected"] == 0
    assert clicks == 6  # BUY; SIDEBET; 50% + SELL; 100% + SELL (the amounts are typed)


async def test_daemon_refused_intent_never_reaches_the_browser(
    tmp_path: Path, free_port: int
) -> None:
    # Arrange: a max bet below the strategy's buy of 0.01 SOL
    data_dir = tmp_path / "data"
    strategy = ScriptedStrategy(allow=lambda v: False, script=("buy",))
    settings = make_settings(free_port, max_bet_sol=0.005)
    async with browser_daemon(settings, data_dir, strategy) as (daemon, task):
        clicks0 = await page_clicks(browser_of(daemon).page)
        strategy.allow = runway(daemon, 1)

        # Act: the strategy asks to buy on every presale update and in the active phase
        await until(lambda: daemon.core.stats["refused_max_bet"] >= 5, 30, "refusals", task)
        await until(lambda: daemon.core.view.phase == Phase.ACTIVE, 20, "the game", task)
        await asyncio.sleep(0.3)  # a click would have landed by now
        clicks = await page_clicks(browser_of(daemon).page) - clicks0
        counts = dict(browser_of(daemon).counts)
        ledger = await get_ledger(daemon)

    # Assert: refusals journaled with their reason; no order, no fire, no click
    refused = query(data_dir, "SELECT intent_action, intent_amount, reason, order_id "
                    "FROM decisions WHERE verdict = 'refused'")
    assert len(refused) >= 5
    # the last presale updates are refused earlier in the gate, for the closing presale
    assert {("buy", BET, "max_bet", None)} <= set(refused) <= {
        ("buy", BET, "max_bet", None), ("buy", BET, "presale_closing", None)}
    assert query(data_dir, "SELECT count(*) FROM orders") == [(0,)]
    assert counts["orders"] == counts["fires"] == 0
    assert clicks == 0
    assert (ledger["balance"], ledger["qty"]) == (10 * SOL, 0)


async def test_daemon_removed_buy_button_fails_orders_once_each_then_reduces(
    tmp_path: Path, free_port: int
) -> None:
    # Arrange: the BUY button is gone before the strategy may buy
    data_dir = tmp_path / "data"
    strategy = ScriptedStrategy(allow=lambda v: False, script=("buy",))
    settings = make_settings(free_port, max_execution_errors=3)
    async with browser_daemon(settings, data_dir, strategy) as (daemon, task):
        page = browser_of(daemon).page
        await page.evaluate("document.querySelector('[class*=\"_buttonsRow_\"] > :first-child').remove()")
        clicks0 = await page_clicks(page)
        strategy.allow = runway(daemon, 1)

        # Act: the strategy asks again after each failure until risk stops it
        await until(lambda: daemon.core.trading_state.value == "reducing", 30, "REDUCING",
                    task)
        ticks = daemon.core.stats["ticks"]
        await until(lambda: daemon.core.stats["refused_state_reducing"] >= 1, 20,
                    "a refused entry", task)
        await until(lambda: daemon.core.stats["ticks"] > ticks + 20, 20, "more ticks", task)
        clicks = await page_clicks(page) - clicks0
        counts = dict(browser_of(daemon).counts)
        ledger = await get_ledger(daemon)
        assert not task.done()  # the daemon kept running

    # Assert: exactly max_execution_errors orders, each FAILED after one attempt, none
    # clicked; the risk state went to REDUCING for repeated execution errors
    orders = query(data_dir, "SELECT order_id, status, detail FROM orders")
    assert len(orders) == 3 and len({o[0] for o in orders}) == 3
    assert all(o[1] == "failed" and "missing: buy" in o[2] for o in orders)
    assert counts["orders"] == counts["failed"] == 3 and counts["fires"] == 0
    assert clicks == 0
    assert query(data_dir, "SELECT new_state, reason FROM risk_events "
                 "WHERE new_state = 'reducing'") == [("reducing", "execution_errors")]
    assert query(data_dir, "SELECT count(*) FROM fills") == [(0,)]
    assert (ledger["balance"], ledger["qty"]) == (10 * SOL, 0)


async def test_daemon_killed_browser_fails_the_order_relaunches_and_trades_again(
    tmp_path: Path, free_port: int
) -> None:
    # Arrange: one buy (asked once) per game, two games; the browser is killed first
    data_dir = tmp_path / "data"
    strategy = ScriptedStrategy(allow=lambda v: False, script=("buy", "sell100"), games=2,
                                retry=False)
    async with browser_daemon(make_settings(free_port), data_dir, strategy) as (daemon, task):
        ex = browser_of(daemon)
        pids = browser_pids(ex.profile)
        assert len(pids) == 1
        os.kill(pids[0], signal.SIGKILL)  # the Chromium the daemon started (its own profile)
        strategy.allow = runway(daemon, 40)

        # Act: the first game's buy fails; the executor relaunches; the second game trades
        await until(lambda: len(strategy.played) == 1 and daemon.core.stats["exec_errors"] == 1
                    and not daemon.core.open_orders, 30, "the failed buy", task)
        # the second game is allowed only once the relaunch is done: on a busy machine
        # Chromium can take longer than a game to start, and an order meanwhile fails
        # fast ("browser restarting"), which is right but not what this test is about
        strategy.allow = lambda v: False
        assert await ex.wait_ready(40)
        strategy.allow = runway(daemon, 40)
        await until(lambda: len(strategy.played) == 2 and quiet(daemon, strategy), 40,
                    "the second game's round trip", task)
        ledger = await get_ledger(daemon)
        counts = dict(ex.counts)
        new_pids = browser_pids(ex.profile)
        ticks = daemon.core.stats["ticks"]
        await until(lambda: daemon.core.stats["ticks"] > ticks, 5, "ticks after it", task)

    # Assert: one FAILED buy (never retried), then a filled round trip on the new browser
    orders = query(data_dir, "SELECT game_id, action, status FROM orders ORDER BY ts_ms")
    assert [o[1:] for o in orders] == [("buy", "failed"), ("buy", "filled"),
                                       ("sell", "filled")]
    assert orders[0][0] == strategy.played[0] and orders[1][0] == strategy.played[1]
    assert counts["orders"] == 3 and counts["failed"] == 1 and counts["filled"] == 2
    assert counts["restarts"] == 1 and new_pids and new_pids != pids
    assert query(data_dir, "SELECT count(*) FROM risk_events WHERE new_state = 'reducing'") \
        == [(0,)]
    with open_journal(data_dir) as journal:
        restored = restore(journal, data_dir / "run", modes=("paper",)).account
    assert restored is not None and account_tuple(restored) == ledger_tuple(ledger)
