"""Human demonstrations: a real capture (scripted clicks on the simulator's replica page
through the human recorder) becomes (observation, action) pairs whose observations equal
the features rebuilt independently from the seeded simulator, and behaviour cloning on
them raises the policy's likelihood of the demonstrated actions."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rugsd.daemon.config import BrowserConfig, SimConfig, StrategyConfig
from rugsd.daemon.events import Phase
from rugsd.daemon.execution.buttons import ButtonEventWriter, Sequencer
from rugsd.daemon.execution.human import HumanRecorder, TickWriter
from rugsd.daemon.execution.selectors import CONTROL_BY_ID, merged
from rugsd.daemon.game.accounting import Account, Sidebet
from rugsd.daemon.game.engine import generate_game
from rugsd.daemon.game.rules import COOLDOWN_MS
from rugsd.daemon.sim.schedule import plan_game, server_seed_for
from rugsd.daemon.sim.server import SimServer
from rugsd.daemon.state.view import GameSummary, GameView
from rugsd.strategy.actions import ActionTable
from rugsd.strategy.features import FEATURE_INDEX, build_features
from rugsd.training.dataset import simulated_games
from rugsd.training.demos import BUY_FIT, build_demos, buy_action, sell_action
from rugsd.training.episodes import PRESALE_DECISION_TIMERS, game_events

CHROMIUM = Path("/usr/bin/chromium")
SEED = 134  # game 0: 148 ticks, game 1: 212 (the script needs both)
SPEED = 10.0
SEL = merged(BrowserConfig().selectors)


@dataclass
class Capture:
    """What the scripted session did, and the simulator's truth at each action press."""

    dataset: Path
    games: dict[str, int] = field(default_factory=dict)  # game id → game number
    truth: list[dict[str, Any]] = field(default_factory=list)  # per action press
    first_press_tick: dict[str, int] = field(default_factory=dict)
    start_balance: int = 0
    history_ids: dict[int, str] = field(default_factory=dict)  # game number → id


async def _ledger(sim: SimServer) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{sim.url}/ledger/human") as r:
        assert r.status == 200
        return await r.json()


async def _until(cond, timeout: float = 30.0) -> None:
    async def poll() -> None:
        while not cond():
            await asyncio.sleep(0.003)

    await asyncio.wait_for(poll(), timeout)


async def _capture(tmp: Path) -> Capture:
    sim = SimServer(SimConfig(), seed=SEED, speed=SPEED)
    await sim.start()
    cap = Capture(tmp / "dataset")
    rec = HumanRecorder(BrowserConfig(), f"{sim.url}/?player=human", cap.dataset,
                        tmp / "data", headless=True, session_id="demo")
    try:
        await asyncio.wait_for(rec.start(), 30)
        await rec.page.wait_for_selector(SEL["inc_0.01"])
        room = sim.room

        def long_pair() -> bool:  # an active game with runway whose successor is long too
            left = room.plan.rug_tick - room.tick  # enough for the presses, rug soon after
            if room.phase != Phase.ACTIVE or room.tick < 30 or not 60 <= left <= 90:
                return False
            nxt = plan_game(sim.seed, room.plan.number + 1, room.plan.next_start_ms, "v3")
            return nxt.rug_tick >= 130

        await _until(long_pair, 60)
        cap.start_balance = (await _ledger(sim))["balance"]

        async def press(name: str, action: bool = False) -> None:
            if action:  # the simulator's exact account just before the action press
                led = await _ledger(sim)
                assert led["pending"] == 0
                cap.truth.append({"game_id": room.plan.game_id, "ledger": led})
            gid = room.plan.game_id
            n = len(rec.events)
            await rec.page.click(SEL[name])
            await _until(lambda: len(rec.events) > n, 5)
            ev = rec.events[n]
            cap.games[gid] = room.plan.number
            cap.first_press_tick.setdefault(gid, ev.tick if ev.game_phase == 2 else -1)
            if action:
                cap.truth[-1]["event"] = ev

        async def settled() -> None:  # the order filled and the page saw its account
            await _until(lambda: room.pending_count == 0, 5)
            await asyncio.sleep(0.15)

        # game A (active): +0.01, BUY | 50%, SELL | SIDEBET
        await press("inc_0.01")
        await press("buy", True)
        await settled()
        await press("pct_50")
        await press("sell", True)
        await settled()
        await press("sidebet", True)
        await settled()
        game_a = room.plan.number
        # game B: BUY in presale (at once), then SELL (50 % still selected), 10 %, 100 %
        await _until(lambda: room.plan.number == game_a + 1 and room.phase == Phase.PRESALE)
        await press("buy", True)
        await _until(lambda: room.phase == Phase.ACTIVE and room.tick >= 2)
        await press("sell", True)
        await settled()
        await press("pct_10")
        await press("sell", True)
        await settled()
        await press("pct_100")
        await press("sell", True)
        await settled()
        await asyncio.sleep(0.3)  # a few more watched ticks
        now = room.plan.number  # gameHistory is newest first: games now-1, now-2, ...
        cap.history_ids = {now - 1 - i: h["id"] for i, h in enumerate(room.history)}
        cap.history_ids[now] = room.plan.game_id
    finally:
        await rec.stop()
        await sim.stop()
    assert rec.tick_parts, "the recorder wrote no ticks"
    return cap


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> Capture:
    """One scripted two-game session (real Chromium, real simulator)."""
    assert CHROMIUM.exists(), "Debian Chromium missing at /usr/bin/chromium"
    tmp = tmp_path_factory.mktemp("demos")
    return asyncio.run(asyncio.wait_for(_capture(tmp), 120))


def _prices(cap: Capture, number: int) -> list[float]:
    gid = cap.history_ids[number]
    return list(generate_game(server_seed_for(str(SEED), number), gid, "v3").prices)


def _view(cap: Capture, gid: str, tick: int, cooldown_ms: int = 0) -> GameView:
    """The view rebuilt from the seeded engine alone (previous games as session history)."""
    number = cap.games[gid]
    recent = []
    for n in range(max(0, number - 10), number):
        if n in cap.history_ids:
            p = _prices(cap, n)
            recent.append(GameSummary(cap.history_ids[n], len(p), max(p)))
    if tick < 0:
        return GameView(gid, Phase.PRESALE, -1, 1.0, (), 1.0, cooldown_ms, True, 0,
                        recent=tuple(recent))
    prices = _prices(cap, number)
    return GameView(gid, Phase.ACTIVE, tick, prices[tick], prices[:tick],
                    max(prices[: tick + 1]), 0, False, 1_000 + tick * 250, started_ts_ms=1_000,
                    recent=tuple(recent))


def _account(led: dict[str, Any]) -> Account:
    bet = led["sidebet"]
    side = None if bet is None else Sidebet(bet["startTick"], bet["endTick"], bet["stake"],
                                            bet["xPayout"])
    return Account(balance=led["balance"], qty=led["qty"], cost=led["cost"], sidebet=side,
                   entry_tick=led["entryTick"])


@pytest.mark.browser
def test_each_action_sequence_becomes_its_policy_action(capture):
    demos = build_demos(capture.dataset)

    presses = [p for p in demos.pairs if p.kind == "press"]
    # buy 0.01 → buy_large, sell 50 %, sidebet | presale buy_large, sell 50 %, (10 %), 100 %
    assert [p.action for p in presses] == [3, 5, 7, 3, 5, 6]
    assert demos.skipped["sell_10"] == 1
    assert [p.tick for p in presses][3] == -1
    assert demos.notes["account_diverged"] == 0  # the replay explains every press's account
    print(demos.summary())


@pytest.mark.browser
def test_press_observations_equal_features_rebuilt_from_the_seeded_game(capture):
    demos = build_demos(capture.dataset)
    presses = [p for p in demos.pairs if p.kind == "press"]
    truth = [t for i, t in enumerate(capture.truth) if i != 5]  # 10 % sell: no action
    assert len(truth) == len(presses)

    for pair, t in zip(presses, truth, strict=True):
        ev = t["event"]
        tick = ev.tick if ev.game_phase == 2 else -1
        # a presale press sits on the core's presale decision grid (once per 250 ms)
        left = round(float(pair.obs[FEATURE_INDEX["cooldown_frac"]]) * COOLDOWN_MS)
        assert tick >= 0 or left in PRESALE_DECISION_TIMERS
        view = _view(capture, t["game_id"], tick, cooldown_ms=left if tick < 0 else 0)
        expected = build_features(view, _account(t["ledger"]))
        assert pair.game_id == t["game_id"] and pair.tick == tick
        assert np.array_equal(pair.obs, expected), (pair.action, pair.obs - expected)


@pytest.mark.browser
def test_wait_pairs_come_from_watched_ticks_outside_the_presses(capture):
    demos = build_demos(capture.dataset)
    waits = [p for p in demos.pairs if p.kind == "wait"]
    gid_a = capture.truth[0]["game_id"]
    first = capture.first_press_tick[gid_a]

    assert len(waits) >= 10
    assert all(p.action == 0 and p.tick % 5 == 0 for p in waits)
    early = [p for p in waits if p.game_id == gid_a and p.tick < first - 4]
    assert early
    flat = Account(balance=capture.start_balance)
    for p in early:
        assert np.array_equal(p.obs, build_features(_view(capture, gid_a, p.tick), flat))
    assert not [p for p in waits if p.game_id == gid_a and first - 4 <= p.tick <= first]


@pytest.mark.browser
@pytest.mark.train
def test_behaviour_cloning_on_the_demonstrations_raises_their_likelihood(capture):
    import torch

    from rugsd.training.dataset import simulated_games
    from rugsd.training.env import RugsEnv
    from rugsd.training.policy import behaviour_clone, human_demos, make_model, obs_stats

    demos, summary = human_demos(capture.dataset)
    assert demos is not None and summary["press_pairs"] == 6 and len(demos) == summary["pairs"]
    mean, std = obs_stats(demos.obs)
    model = make_model(RugsEnv(simulated_games(3, seed=1)), mean, std, seed=0)

    def loglik() -> float:
        with torch.no_grad():
            _, logp, _ = model.policy.evaluate_actions(
                torch.from_numpy(demos.obs), torch.from_numpy(demos.actions),
                action_masks=torch.from_numpy(demos.masks))
        return float(logp.mean())

    before = loglik()
    behaviour_clone(model, demos, epochs=30, budget_s=20, seed=0)
    after = loglik()

    assert after > before + 0.1


@given(st.integers(min_value=1, max_value=10**11))
def test_a_buy_maps_to_the_nearest_size_only_within_the_fit(amount):
    table = ActionTable.from_config(StrategyConfig())

    a = buy_action(amount, table)

    ratios = [abs(np.log(amount / lam)) for lam in table.buy_lamports]
    if min(ratios) <= np.log(BUY_FIT) + 1e-12:
        assert a is not None and ratios[a - 1] == min(ratios)
    else:
        assert a is None


def test_sell_percentages_map_to_sell_actions_and_ten_percent_has_none():
    assert [sell_action(p) for p in (10, 25, 50, 100)] == [None, 4, 5, 6]


# -- synthetic sessions (no browser): odd input is skipped and counted, never a crash -------

_BUTTONS = sorted(CONTROL_BY_ID)
_snap = st.fixed_dictionaries({
    "button_id": st.sampled_from([*_BUTTONS, "NOPE"]),
    "phase": st.sampled_from(["active"] * 4 + ["cooldown", "presale", "rugged", "weird"]),
    "tick": st.integers(-3, 140),
    "price_ok": st.integers(0, 5).map(bool),
    "balance": st.sampled_from([10.0] * 4 + [0, 0.5, "x", None]),
    "position_qty": st.sampled_from([0] * 4 + [0.01, 3.0, None]),
    "bet_text": st.sampled_from(["0", "0.001", "0.002", "0.01", "0.3", "abc", ""]),
})


def _synthetic(tmp: Path, spec, snaps: list[dict]) -> Path:
    """A recorder-shaped folder: the game's ticks and a session's presses on it."""
    ticks = TickWriter(tmp, "syn")
    for ev in game_events(spec):
        ticks.on_event(ev)
    ticks.close()
    seq = Sequencer("syn")
    writer = ButtonEventWriter(tmp, "syn")
    prices = spec.prices.tolist()
    for i, s in enumerate(snaps):
        t = s["tick"]
        price = prices[t] if 0 <= t < len(prices) and s["price_ok"] else 1.5
        ev = seq.event({"button_id": s["button_id"], "game_id": spec.game_id,
                        "phase": s["phase"], "tick": t, "price": price,
                        "balance": s["balance"], "position_qty": s["position_qty"],
                        "bet_text": s["bet_text"], "ticks_seen": max(t, 0),
                        "wall_ms": spec.start_ms + i, "trusted": True})
        if ev is not None:
            writer.add(ev)
    writer.close()
    return tmp


@given(st.lists(_snap, min_size=1, max_size=12))
@settings(max_examples=25)
def test_arbitrary_press_sessions_give_only_valid_pairs(snaps):
    spec = simulated_games(1, seed=0, prefix="syn")[0]  # 136 ticks
    with tempfile.TemporaryDirectory() as tmp:
        demos = build_demos(_synthetic(Path(tmp), spec, snaps))

    for p in demos.pairs:
        assert p.mask[p.action] and np.isfinite(p.obs).all()
        assert p.kind == "wait" or p.action != 0
    n_actions = sum(1 for s in snaps if s["button_id"] in ("BUY", "SELL", "SIDEBET"))
    presses = sum(1 for p in demos.pairs if p.kind == "press")
    assert presses <= n_actions


def test_a_game_without_a_price_path_is_skipped_and_counted(tmp_path):
    spec = simulated_games(1, seed=4, prefix="nopath")[0]
    folder = _synthetic(tmp_path, spec, [{"button_id": "BUY", "phase": "active", "tick": 0,
                                          "price_ok": True, "balance": 10.0,
                                          "position_qty": 0, "bet_text": "0.01"}])
    for f in (folder / "human_ticks").glob("*.parquet"):
        f.unlink()

    demos = build_demos(folder)

    assert demos.pairs == [] and demos.skipped["no_price_path"] == 1
