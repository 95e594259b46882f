"""Human demonstrations: scripted presses on the replica page become ButtonEvents whose
context is the game state at the press, grouped into action sequences, in Parquet."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pyarrow.parquet as pq
from exec_helpers import ledger, wait_runway

from rugsd.daemon.config import BrowserConfig
from rugsd.daemon.execution.human import HumanRecorder
from rugsd.daemon.execution.selectors import merged

SEL = merged(None)


async def press(rec: HumanRecorder, sim, selector: str) -> tuple[int, int, object]:
    """Click like a person (trusted input); return room ticks around it and the event."""
    n = len(rec.events)
    before = sim.room.tick
    await rec.page.click(selector)
    after = sim.room.tick

    async def arrived() -> None:
        while len(rec.events) <= n:
            await asyncio.sleep(0.005)

    await asyncio.wait_for(arrived(), 5)
    return before, after, rec.events[n]


async def test_scripted_presses_are_recorded_with_the_game_state_at_the_press(sim, tmp_path):
    rec = HumanRecorder(BrowserConfig(), f"{sim.url}/?player=human", tmp_path / "dataset",
                        tmp_path / "data", headless=True, session_id="s1")
    await asyncio.wait_for(rec.start(), 30)
    try:
        await rec.page.wait_for_selector('[class*="_controlBtn_"]:text-is("+0.01")')
        await wait_runway(sim, 80)
        game = sim.room.plan.game_id
        start = await ledger(sim, "human")
        inc = '[class*="_controlBtn_"]:text-is("+0.01")'

        # Act: +0.01, +0.01, BUY  then  50%, SELL
        presses = [await press(rec, sim, inc), await press(rec, sim, inc),
                   await press(rec, sim, SEL["buy"])]

        async def bought() -> None:
            while (await ledger(sim, "human"))["qty"] == 0:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(bought(), 5)
        await asyncio.sleep(0.2)  # the page's playerUpdate arrives
        held = await ledger(sim, "human")
        presses.append(await press(rec, sim, '[class*="_percentageBtn_"]:text-is("50%")'))
        presses.append(await press(rec, sim, SEL["sell"]))
    finally:
        parts = await rec.stop()

    events = [p[2] for p in presses]
    # Assert: identity, categories, sequences
    assert [e.button_id for e in events] == ["INC_01", "INC_01", "BUY", "PCT_50", "SELL"]
    assert [e.button_category for e in events] == [
        "bet_adjust", "bet_adjust", "action", "percentage", "action"]
    assert [e.sequence_position for e in events] == [0, 1, 2, 0, 1]
    assert events[0].sequence_id == events[2].sequence_id != events[3].sequence_id
    assert events[0].ticks_since_last_action == -1
    assert events[3].ticks_since_last_action >= 0
    assert all(e.trusted for e in events)
    # the state at each press
    for before, after, ev in presses:
        assert ev.game_id == game and ev.game_phase == 2
        assert before - 1 <= ev.tick <= after
        assert ev.price == sim.room.plan.price_at(ev.tick)
    assert [e.bet_amount for e in events[:3]] == [Decimal(0), Decimal("0.01"), Decimal("0.02")]
    assert events[2].balance == Decimal(start["balance"]) / 10**9
    assert events[2].position_qty == 0
    assert events[4].position_qty == Decimal(held["qty"]) / 10**9
    # the Parquet file holds the same rows
    assert len(parts) == 1
    table = pq.read_table(parts[0])
    assert table.column("button_id").to_pylist() == [e.button_id for e in events]
    assert table.column("bet_amount").to_pylist()[2] == Decimal("0.02")
    assert parts[0].parent.name == "button_events"
