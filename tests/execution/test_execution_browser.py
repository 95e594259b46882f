"""PlaywrightExecutor on the replica page of a real simulator, in Debian's Chromium.

Orders are clicked in the page and confirmed from the feed; the simulator's ledger is the
judge (exact integers). Faults are injected into the real browser: a removed button, a
closed page, a killed browser process.
"""

from __future__ import annotations

import asyncio
import os
import signal

from exec_helpers import DaemonFeed, ledger, page_clicks, wait_phase, wait_runway

from rugsd.daemon.config import RiskConfig
from rugsd.daemon.core.inputs import ExecStatus
from rugsd.daemon.events import Phase
from rugsd.daemon.execution.browser import ExecutorState, execute
from rugsd.daemon.execution.launch import browser_pids
from rugsd.daemon.game.accounting import FillKind, open_account
from rugsd.daemon.state.view import GameView
from rugsd.risk.context import GameCounters, GateContext, RiskLimits, SessionFigures
from rugsd.risk.gate import check
from rugsd.risk.ratelimit import RateWindow
from rugsd.risk.states import RiskState
from rugsd.risk.verdicts import Order, Refusal
from rugsd.strategy.intents import Action, Intent

SOL = 1_000_000_000
N = 0


def order(action: Action, amount: int = 0, percentage: int = 0) -> Order:
    """A gate-approved order (ids unique per test process)."""
    global N
    N += 1
    return Order(f"t-{N}", action, amount, percentage, "", 0, 0, 1.0)


def assert_ledger_equals(entry: dict, account) -> None:
    assert account is not None
    assert (entry["balance"], entry["qty"], entry["cost"], entry["realised"], entry["credited"]) == (
        account.balance, account.qty, account.cost, account.realised, account.credited,
    )
    bet = entry["sidebet"]
    if bet is None:
        assert account.sidebet is None
    else:
        assert account.sidebet is not None
        assert (bet["startTick"], bet["endTick"], bet["stake"], bet["xPayout"]) == (
            account.sidebet.start_tick, account.sidebet.end_tick, account.sidebet.stake,
            account.sidebet.x_payout,
        )


async def test_buy_sell_sidebet_fill_and_match_the_simulator_ledger(sim, executors):
    # Arrange: the executor's page is player "alice"; the daemon's own feed is anonymous
    ex = await executors(f"{sim.url}/?player=alice")
    feed = DaemonFeed(ex.on_feed_event)
    await feed.connect(sim.url)
    try:
        assert ex.player_id == "sim:alice"
        await wait_runway(sim, 60)

        # Act + Assert: buy 0.01 SOL
        buy = await ex.submit(order(Action.BUY, 10_000_000))
        assert buy.status is ExecStatus.FILLED, buy.detail
        assert buy.fills[0].kind is FillKind.BUY and buy.fills[0].amount == 10_000_000
        assert_ledger_equals(await ledger(sim, "alice"), buy.account)

        # sell half of it
        sell = await ex.submit(order(Action.SELL, percentage=50))
        assert sell.status is ExecStatus.FILLED, sell.detail
        assert sell.fills[0].kind is FillKind.SELL
        assert sell.fills[0].qty == buy.fills[0].qty // 2
        assert_ledger_equals(await ledger(sim, "alice"), sell.account)

        # a sidebet of 0.002 SOL
        bet = await ex.submit(order(Action.SIDEBET, 2_000_000))
        assert bet.status is ExecStatus.FILLED, bet.detail
        assert bet.fills[0].kind is FillKind.SIDEBET_PLACE
        entry = await ledger(sim, "alice")
        assert_ledger_equals(entry, bet.account)
        assert entry["sidebet"]["stake"] == 2_000_000
        # both feeds delivered the same trades and sidebet: each was counted once
        async def dupes() -> None:
            while ex.counts["duplicates"] < 3:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(dupes(), 5)
        assert ex.health()["filled"] == 3
    finally:
        await feed.close()


async def test_presale_buy_with_x_and_plus_buttons_fills_at_one(sim, executors):
    ex = await executors(f"{sim.url}/?player=bob", bet_entry="buttons")
    await wait_phase(sim, Phase.PRESALE)
    before = await page_clicks(ex.page)

    rep = await ex.submit(order(Action.BUY, 12_000_000))  # X, +0.01, +0.001, +0.001, BUY

    assert rep.status is ExecStatus.FILLED, rep.detail
    assert rep.fills[0].price == 1.0 and rep.fills[0].qty == 12_000_000
    assert await page_clicks(ex.page) - before == 5
    assert_ledger_equals(await ledger(sim, "bob"), rep.account)


async def test_venue_refusal_is_reported_rejected_not_failed(sim, executors):
    ex = await executors(f"{sim.url}/?player=carol")
    await wait_runway(sim, 30)

    rep = await ex.submit(order(Action.SELL, percentage=100))  # nothing to sell

    assert rep.status is ExecStatus.REJECTED
    assert "no_position" in rep.detail
    assert ex.consecutive_failures == 0


async def test_refused_intent_and_unenterable_order_never_click(sim, executors):
    ex = await executors(f"{sim.url}/?player=dave")
    before = await page_clicks(ex.page)
    view = GameView(game_id="20250101-0123456789abcdef", phase=Phase.ACTIVE, tick=5, price=1.0,
                    prices=(1.0,), peak=1.0, cooldown_ms=0, allow_prebuys=False, ts_ms=1)
    ctx = GateContext(
        state=RiskState(feed_stale=False, last_event_ms=1),
        limits=RiskLimits.from_config(RiskConfig()),
        account=open_account(10 * SOL), view=view,
        figures=SessionFigures.start(10 * SOL, 1), ts_ms=1,
        counters=GameCounters(view.game_id), orders=RateWindow(),
    )
    verdict = check(Intent(Action.BUY, 5 * SOL), ctx)  # far above max_bet_sol
    assert isinstance(verdict, Refusal)

    sent = await execute(ex, verdict)
    tiny = await ex.submit(order(Action.BUY, 1000))  # below the minimum bet
    odd = await ex.submit(order(Action.SELL, percentage=33))  # no such button

    assert sent is None
    assert tiny.status is ExecStatus.REJECTED and odd.status is ExecStatus.REJECTED
    await asyncio.sleep(0.1)
    assert await page_clicks(ex.page) == before


async def test_removed_button_fails_the_order_without_retry(sim, executors):
    ex = await executors(f"{sim.url}/?player=erin")
    await wait_runway(sim, 30)
    await ex.page.evaluate("document.querySelector('[class*=\"_buttonsRow_\"] > :first-child').remove()")
    before = await page_clicks(ex.page)
    entry_before = await ledger(sim, "erin")

    rep = await ex.submit(order(Action.BUY, 10_000_000))

    assert rep.status is ExecStatus.FAILED
    assert "missing: buy" in rep.detail
    await asyncio.sleep(0.3)  # a retry or a late fill would show by now
    assert await page_clicks(ex.page) == before
    assert (await ledger(sim, "erin"))["balance"] == entry_before["balance"]
    assert ex.consecutive_failures == 1


async def test_closed_page_fails_then_executor_reopens_and_trades(sim, executors):
    ex = await executors(f"{sim.url}/?player=fay")
    await ex.page.close()

    failed = await ex.submit(order(Action.BUY, 10_000_000))
    assert failed.status is ExecStatus.FAILED
    assert await ex.wait_ready(30)
    await wait_runway(sim, 30)
    again = await ex.submit(order(Action.BUY, 10_000_000))

    assert again.status is ExecStatus.FILLED, again.detail
    assert ex.counts["restarts"] == 1
    assert (await ledger(sim, "fay"))["cost"] == 10_000_000


async def test_killed_browser_fails_then_executor_relaunches_and_trades(sim, executors):
    ex = await executors(f"{sim.url}/?player=gus")
    pids = browser_pids(ex.profile)
    assert len(pids) == 1
    os.kill(pids[0], signal.SIGKILL)  # the Chromium we started, found by its own profile dir
    await asyncio.sleep(0.5)

    failed = await ex.submit(order(Action.BUY, 10_000_000))
    assert failed.status is ExecStatus.FAILED
    assert await ex.wait_ready(40)
    assert ex.state is ExecutorState.READY
    await wait_runway(sim, 30)
    again = await ex.submit(order(Action.BUY, 10_000_000))

    assert again.status is ExecStatus.FILLED, again.detail
    assert browser_pids(ex.profile) and browser_pids(ex.profile) != pids
    assert (await ledger(sim, "gus"))["cost"] == 10_000_000


async def test_repeated_failures_move_risk_to_reducing(sim, executors):
    ex = await executors(f"{sim.url}/?player=hal")
    await ex.page.evaluate("document.querySelector('[class*=\"_buttonsRow_\"] > :nth-child(2)').remove()")
    limit = RiskConfig().max_execution_errors
    risk = RiskState(feed_stale=False, last_event_ms=1)

    for _ in range(limit):
        rep = await ex.submit(order(Action.SELL, percentage=100))
        assert rep.status is ExecStatus.FAILED
        risk, _change = risk.on_execution_error(rep.ts_ms, limit, rep.detail)

    assert risk.trading_state.value == "reducing"
    assert ex.health()["consecutive_failures"] == limit


async def test_a_control_that_says_something_else_is_never_clicked(sim, executors):
    # Arrange: the page resolved BUY by position; then the page changes under us
    ex = await executors(f"{sim.url}/?player=ivy")
    await wait_runway(sim, 40)
    before = await page_clicks(ex.page)
    entry_before = await ledger(sim, "ivy")
    first = "document.querySelector('[class*=\"_buttonsRow_\"] > :first-child')"

    # Act 1: the element at the BUY position now says SELL (a re-render, a new layout)
    await ex.page.evaluate(f"{first}.firstElementChild.textContent = 'SELL'")
    swapped = await ex.submit(order(Action.BUY, 10_000_000))
    # Act 2: BUY again, but its label keeps showing another amount than the order's
    await ex.page.evaluate(f"""() => {{
        const label = {first};
        label.firstElementChild.textContent = 'BUY';
        const amount = label.querySelector('[data-field="buy-amount"]');
        amount.removeAttribute('data-field');
        amount.textContent = '+0.500 SOL';
        const dummy = document.createElement('div');
        dummy.hidden = true;
        dummy.dataset.field = 'buy-amount';
        document.body.appendChild(dummy);
    }}""")
    stale_amount = await ex.submit(order(Action.BUY, 10_000_000))

    # Assert: both FAILED before any click; the venue saw nothing
    assert swapped.status is ExecStatus.FAILED
    assert "mismatch: buy says 'SELL'" in swapped.detail
    assert stale_amount.status is ExecStatus.FAILED
    assert "mismatch: buy says 'BUY+0.500 SOL', not the order's 0.01 SOL" in stale_amount.detail
    await asyncio.sleep(0.3)  # a late click or fill would show by now
    assert await page_clicks(ex.page) == before
    assert await ledger(sim, "ivy") == entry_before
    assert ex.counts["fires"] == 0 and ex.counts["failed"] == 2
