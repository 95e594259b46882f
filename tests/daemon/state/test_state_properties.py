"""Property tests: dropped, duplicated and shuffled updates never break the machine."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from state_helpers import GID_A, GID_B, GID_C, cooldown, rug, tick

from rugsd.daemon.events import GameUpdate, Phase
from rugsd.daemon.state.machine import GameStateMachine
from rugsd.daemon.state.prices import PriceHistory
from rugsd.daemon.state.transitions import GameFinished, Rugged

RANK = {Phase.UNKNOWN: -1, Phase.COOLDOWN: 0, Phase.PRESALE: 1, Phase.ACTIVE: 2, Phase.RUGGED: 3}
_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _game(rng: random.Random, gid: str, t0: int) -> tuple[list[GameUpdate], list[float]]:
    """A clean feed of one game (cooldown, presale, ticks with partialPrices, rug, repeats)."""
    rug_tick = rng.randint(1, 80)
    prices = [1.0]
    for _ in range(1, rug_tick):
        prices.append(max(0.01, prices[-1] * (1 + rng.uniform(-0.2, 0.25))))
    prices.append(prices[-1] * 0.01)  # the rug price
    feed = [cooldown(ms, gid, t0 + (15000 - ms)) for ms in (15000, 12000, 10000, 4000, 100)]
    for t in range(rug_tick + 1):
        window = [(k, prices[k]) for k in range(max(0, t - 4), t + 1)]
        partial = window if rng.random() < 0.7 else []
        maker = rug if t == rug_tick else tick
        feed.append(maker(t, prices[t], gid, t0 + 15000 + t * 250, partial=partial))
    feed.append(rug(rug_tick + 2, prices[-1], gid, t0 + 16000 + rug_tick * 250))
    return feed, prices


def _perturb(rng: random.Random, feed: list[GameUpdate], mode: str) -> list[GameUpdate]:
    out: list[GameUpdate] = []
    for update in feed:
        r = rng.random()
        if r < 0.15:
            continue  # dropped
        out.append(update)
        if r > 0.9:
            out.append(update)  # duplicated
    if mode == "swap":
        for i in range(len(out) - 1):
            if rng.random() < 0.2:
                out[i], out[i + 1] = out[i + 1], out[i]
    elif mode == "shuffle":
        rng.shuffle(out)
    return out


@_SETTINGS
@given(
    seed=st.integers(0, 2**32),
    games=st.integers(1, 3),
    mode=st.sampled_from(["clean", "drop", "swap", "shuffle"]),
    stale=st.booleans(),
    backfill_join=st.booleans(),
)
def test_perturbed_feeds_keep_the_invariants(
    seed: int, games: int, mode: str, stale: bool, backfill_join: bool
) -> None:
    rng = random.Random(seed)
    feeds, truths = [], {}
    for i, gid in enumerate((GID_A, GID_B, GID_C)[:games]):
        feed, prices = _game(rng, gid, i * 100_000)
        truths[gid] = prices
        feeds.append(feed if mode == "clean" else _perturb(rng, feed, mode))
    if backfill_join and len(feeds[0]) > 8:  # connect mid-game: drop the start, add a backfill
        first = next((u for u in feeds[0][6:] if u.active and not u.rugged), None)
        if first is not None and first.tick:
            joined = replace(first, backfill=tuple(truths[first.game_id][: first.tick + 1]))
            feeds[0] = [joined, *feeds[0][feeds[0].index(first) + 1 :]]
    sequence = [u for feed in feeds for u in feed]
    if stale and games > 1:  # late events of game A after game B started
        sequence += [u for u in feeds[0][:5]]

    m = GameStateMachine()
    delivered: dict[str, dict[int, float]] = {}
    finished: dict[str, GameFinished] = {}
    rug_ticks: dict[str, int] = {}
    for update in sequence:
        before = m.view
        out = m.apply(update)
        view = m.view
        if view.game_id == before.game_id:
            assert view.tick >= before.tick
            assert RANK[view.phase] >= RANK[before.phase]
        if view.phase in (Phase.ACTIVE, Phase.RUGGED):
            assert len(view.prices) == view.tick + 1
            assert view.price == view.prices[view.tick]
        if view.phase is Phase.ACTIVE:
            assert view.peak == max(view.prices)
        # remember which real prices reached the machine before the game's rug
        was_rugged = before.game_id == update.game_id and before.phase is Phase.RUGGED
        if view.game_id == update.game_id and not was_rugged:
            known = delivered.setdefault(update.game_id, {})
            if update.active and update.tick is not None and update.price is not None:
                known.setdefault(update.tick, update.price)
            known.update(update.partial_prices)
            if update.backfill is not None:
                known.update(enumerate(update.backfill))
        for t in out:
            if isinstance(t, GameFinished):
                finished[t.summary.game_id] = t
            if isinstance(t, Rugged):
                rug_ticks[t.game_id] = t.rug_tick

    # every slot holds the real price if it ever reached the machine, else the carried one
    for gid, done in finished.items():
        if not done.rug_seen or rug_ticks[gid] != len(truths[gid]) - 1:
            continue  # the game ended on a post-rug repeat or a new gameId: partial record
        truth, known = truths[gid], delivered[gid]
        for k, price in enumerate(done.prices):
            if k in known:
                assert price == truth[k], (gid, k)
            elif k > 0:
                assert price == done.prices[k - 1], (gid, k)
        assert done.complete == all(k == 0 or k in known for k in range(len(truth)))


@settings(max_examples=200, deadline=None)
@given(
    data=st.lists(st.floats(0, 10), max_size=20),
    n=st.integers(0, 25),
    start=st.none() | st.integers(-30, 30),
    stop=st.none() | st.integers(-30, 30),
    step=st.none() | st.integers(-4, 4).filter(bool),
)
def test_price_history_slices_like_a_list_prefix(
    data: list[float], n: int, start: int | None, stop: int | None, step: int | None
) -> None:
    snap = PriceHistory(data, n)
    prefix = data[:n]
    assert len(snap) == len(prefix) and list(snap) == prefix
    assert snap[start:stop:step] == prefix[start:stop:step]
    for i in range(-len(prefix), len(prefix)):
        assert snap[i] == prefix[i]
