"""Feature builder: schema fingerprint, no look-ahead, batch == streaming, finiteness."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rugsd.daemon.events import Phase, SessionStats
from rugsd.daemon.game.accounting import Account, Sidebet, buy, open_account, place_sidebet
from rugsd.daemon.game.engine import generate_game
from rugsd.daemon.state.prices import PriceHistory
from rugsd.daemon.state.view import GameSummary, GameView
from rugsd.strategy.features import (
    ACCOUNT_FEATURES,
    ACCOUNT_SLICE,
    FEATURE_INDEX,
    FEATURE_NAMES,
    GAME_SLICE,
    N_FEATURES,
    SCHEMA_VERSION,
    SESSION_SLICE,
    Commitments,
    FeatureBuilder,
    account_features,
    build_features,
    default_limits,
    schema_hash,
)
from rugsd.strategy.features_batch import build_batch

# Pinned on purpose: a change here means every bundle must be retrained. Change the
# feature list → bump SCHEMA_VERSION and update this value in the same commit.
PINNED_HASH = "0cfefe2fcccd2ba2"

RECENT = tuple(GameSummary(f"g{i}", 50 + 37 * i, 1.0 + 0.9 * i) for i in range(12))
STATS = SessionStats(average_multiplier=15.04, count2x=52, count10x=9, count50x=1, count100x=1)


def _view(
    prices: list[float],
    tick: int,
    *,
    visible: int | None = None,
    phase: Phase = Phase.ACTIVE,
    started: int | None = 1_000,
    recent: tuple[GameSummary, ...] = RECENT,
    stats: SessionStats | None = STATS,
) -> GameView:
    """The view at ``tick``; ``visible`` = how many prices the view's list exposes."""
    n = tick + 1 if visible is None else visible
    return GameView(
        game_id="20251207-0000000000000001",
        phase=phase,
        tick=tick,
        price=prices[tick],
        prices=PriceHistory(prices, n),
        peak=max(prices[: tick + 1]),
        cooldown_ms=0,
        allow_prebuys=False,
        ts_ms=1_000 + 250 * tick,
        started_ts_ms=started,
        recent=recent,
        stats=stats,
    )


def _real_games(real_data_dir: Path) -> list[list[float]]:
    """The 11 complete real games (rug price dropped) and 3 recorded games' tick prices."""
    games: dict[str, list[float]] = {}
    with open(real_data_dir / "websocket_raw_samples.jsonl") as fh:
        for line in fh:
            ev = json.loads(line)
            if ev["event_type"] != "gameStateUpdate":
                continue
            data = ev["data"][-1] if isinstance(ev["data"], list) else ev["data"]
            for g in data.get("gameHistory") or []:
                if g.get("prices"):
                    games[g["id"]] = [float(p) for p in g["prices"][:-1]]
    assert len(games) == 11
    out = list(games.values())
    for path in sorted((real_data_dir / "recordings").glob("*.jsonl"))[:3]:
        ticks: dict[int, float] = {}
        for line in path.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # the recordings hold cut/merged lines
            if rec.get("type") == "tick" and rec.get("active") and not rec.get("rugged"):
                ticks[int(rec["tick"])] = float(rec["price"])
        out.append([ticks[t] for t in sorted(ticks)])
    return out


def _sim_games(n: int) -> list[list[float]]:
    games = [list(generate_game("ab" * 32, f"20250101-{i:016x}").prices) for i in range(n)]
    assert max(len(g) for g in games) > 100
    return games


def test_schema_hash_is_pinned_and_short_hex() -> None:
    assert schema_hash() == PINNED_HASH == schema_hash(FEATURE_NAMES, SCHEMA_VERSION)
    assert len(PINNED_HASH) == 16
    int(PINNED_HASH, 16)
    assert len(FEATURE_NAMES) == N_FEATURES == len(set(FEATURE_NAMES))


def test_schema_hash_changes_with_names_order_or_version() -> None:
    renamed = ("tick",) + FEATURE_NAMES[1:]
    swapped = (FEATURE_NAMES[1], FEATURE_NAMES[0]) + FEATURE_NAMES[2:]
    assert schema_hash(renamed) != PINNED_HASH
    assert schema_hash(swapped) != PINNED_HASH
    assert schema_hash(FEATURE_NAMES[:-1]) != PINNED_HASH
    assert schema_hash(version=SCHEMA_VERSION + 1) != PINNED_HASH


def test_blocks_partition_the_vector() -> None:
    assert GAME_SLICE.start == 0
    assert GAME_SLICE.stop == ACCOUNT_SLICE.start
    assert ACCOUNT_SLICE.stop == SESSION_SLICE.start
    assert SESSION_SLICE.stop == N_FEATURES


def test_features_at_tick_ignore_future_prices_in_the_view() -> None:
    prices = max(_sim_games(30), key=len)
    acct = open_account(5 * 10**9)
    for t in range(len(prices) - 1):
        truncated = build_features(_view(prices, t), acct)
        with_future = build_features(_view(prices, t, visible=len(prices)), acct)
        poisoned = prices[: t + 1] + [1e6] * 50  # wild future values must not matter
        with_poison = build_features(_view(poisoned, t, visible=len(poisoned)), acct)
        np.testing.assert_array_equal(truncated, with_future)
        np.testing.assert_array_equal(truncated, with_poison)


def test_builder_streaming_equals_fresh_computation_with_future_appended() -> None:
    prices = max(_sim_games(30), key=len)
    builder = FeatureBuilder()
    acct = open_account(10**9)
    for t in range(len(prices)):
        acct_t = buy(acct, 10**7, prices[5], 5)[0] if t >= 5 else acct
        streamed = builder.build(_view(prices, t, visible=t + 1), acct_t).copy()
        batch_like = build_features(_view(prices, t, visible=len(prices)), acct_t)
        np.testing.assert_array_equal(streamed, batch_like)


@pytest.mark.parametrize("source", ["real", "simulated"])
def test_batch_equals_per_tick_builder_exactly(source: str, real_data_dir: Path) -> None:
    games = _real_games(real_data_dir) if source == "real" else _sim_games(40)
    builder = FeatureBuilder()
    acct = open_account(3 * 10**9)
    acct = buy(acct, 12_345_678, 1.0, 2)[0]
    acct = place_sidebet(acct, 10**6, 3)[0]
    rows = 0
    for prices in games:
        batch = build_batch(prices, account=acct, recent=RECENT, stats=STATS)
        assert batch.dtype == np.float32 and batch.shape == (len(prices), N_FEATURES)
        for t in range(len(prices)):
            row = builder.build(_view(prices, t), acct)
            if not np.array_equal(row, batch[t]):
                bad = [FEATURE_NAMES[i] for i in np.flatnonzero(row != batch[t])]
                pytest.fail(f"tick {t}: batch != streaming for {bad}")
            rows += 1
    assert rows > 1000


def test_batch_default_time_and_flat_account_match_builder() -> None:
    prices = max(_sim_games(20), key=len)
    batch = build_batch(prices)
    flat = Account()
    for t in (0, 1, 7, len(prices) - 1):
        view = _view(prices, t, started=None, recent=(), stats=None)
        np.testing.assert_array_equal(build_features(view, flat), batch[t])


def test_presale_view_has_zero_returns_and_presale_onehot() -> None:
    view = GameView(
        game_id="g",
        phase=Phase.PRESALE,
        tick=-1,
        price=1.0,
        prices=(),
        peak=1.0,
        cooldown_ms=7_500,
        allow_prebuys=True,
        ts_ms=5,
    )
    f = build_features(view, open_account(10**9))
    assert f[FEATURE_INDEX["phase_presale"]] == 1.0
    assert f[FEATURE_INDEX["phase_active"]] == 0.0
    assert f[FEATURE_INDEX["cooldown_frac"]] == pytest.approx(0.5)
    assert f[FEATURE_INDEX["ret_1"]] == 0.0 and f[FEATURE_INDEX["vol_40"]] == 0.0
    assert f[FEATURE_INDEX["cash_frac"]] == 1.0  # 1 SOL - 0.1 reserve >= max_position
    assert f[FEATURE_INDEX["entry_open"]] == 1.0


def test_known_values_on_a_scripted_game() -> None:
    prices = [1.0, 1.1, 0.99, 1.2, 1.2 * 1.05]
    acct = buy(open_account(10**9), 10**8, 1.1, 1)[0]
    f = build_features(_view(prices, 4, recent=RECENT[:2]), acct)
    x = prices[4]
    assert f[FEATURE_INDEX["ret_1"]] == pytest.approx(math.log(1.05))
    assert f[FEATURE_INDEX["ret_5"]] == pytest.approx(math.log(x / 1.0))
    r = [math.log(b / a) for a, b in itertools.pairwise(prices)]
    assert f[FEATURE_INDEX["vol_10"]] == pytest.approx(float(np.std(r)), rel=1e-6)
    assert f[FEATURE_INDEX["drawdown"]] == pytest.approx(0.0)
    assert f[FEATURE_INDEX["has_position"]] == 1.0
    assert f[FEATURE_INDEX["entry_price_ratio"]] == pytest.approx(1.1 / x, rel=1e-6)
    assert f[FEATURE_INDEX["upnl_rel"]] == pytest.approx(x / 1.1 - 1, rel=1e-5)
    assert f[FEATURE_INDEX["ticks_in_position_per_100"]] == pytest.approx(0.03)
    assert f[FEATURE_INDEX["position_cost_frac"]] == pytest.approx(1.0)  # 0.1 of 0.1 SOL
    assert f[FEATURE_INDEX["recent_n_frac"]] == pytest.approx(0.2)
    assert f[FEATURE_INDEX["recent_len_mean_per_100"]] == pytest.approx((50 + 87) / 2 / 100)
    assert f[FEATURE_INDEX["stats_count2x_per_100"]] == pytest.approx(0.52)


def test_sidebet_features_count_down_and_expire() -> None:
    acct = Account(balance=10**9, sidebet=Sidebet(start_tick=10, end_tick=50, stake=10**6))
    lim = default_limits()
    live = account_features(_view([1.0] * 51, 30), acct, lim)
    i = ACCOUNT_FEATURES.index("sidebet_active")
    assert live[i : i + 2] == [1.0, 0.5]
    assert account_features(_view([1.0] * 51, 50), acct, lim)[i : i + 2] == [0.0, 0.0]


def test_session_cache_follows_new_recent_games() -> None:
    prices = [1.0, 1.01, 1.02]
    builder = FeatureBuilder()
    a = builder.build(_view(prices, 2, recent=RECENT[:3]), Account()).copy()
    b = builder.build(_view(prices, 2, recent=RECENT[:4]), Account()).copy()
    assert not np.array_equal(a[SESSION_SLICE], b[SESSION_SLICE])
    np.testing.assert_array_equal(b, build_features(_view(prices, 2, recent=RECENT[:4]), Account()))


def test_missing_ticks_degrade_to_the_prices_available() -> None:
    prices = [1.0, 1.1, 1.2, 1.3, 1.4, 1.5]
    view = replace(_view(prices, 5), prices=PriceHistory(prices, 3))  # ticks 3, 4 missing
    f = build_features(view, Account())
    assert np.isfinite(f).all()
    assert f[FEATURE_INDEX["ret_1"]] == pytest.approx(math.log(1.5 / 1.2))


_floats = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=200, deadline=None)
@given(
    prices=st.lists(_floats, min_size=1, max_size=60),
    tick=st.integers(-1, 80),
    peak=_floats,
    ts=st.integers(-(10**13), 10**13),
    started=st.none() | st.integers(-(10**13), 10**13),
    cooldown=st.integers(-(10**6), 10**6),
    phase=st.sampled_from(list(Phase)),
    qty=st.integers(0, 10**15),
    cost=st.integers(0, 10**15),
    balance=st.integers(-(10**12), 10**15),
    entry=st.none() | st.integers(-5, 100),
    avg=st.none() | _floats,
    counts=st.lists(st.none() | st.integers(-5, 10**6), min_size=4, max_size=4),
    recent_peaks=st.lists(_floats, max_size=12),
)
def test_features_are_always_finite(
    prices, tick, peak, ts, started, cooldown, phase, qty, cost, balance, entry, avg, counts,
    recent_peaks,
) -> None:  # fmt: skip
    view = GameView(
        game_id="g",
        phase=phase,
        tick=tick,
        price=prices[-1],
        prices=prices,
        peak=peak,
        cooldown_ms=cooldown,
        allow_prebuys=False,
        ts_ms=ts,
        started_ts_ms=started,
        stats=SessionStats(avg, *counts),
        recent=tuple(GameSummary(str(i), i * 7 - 3, p) for i, p in enumerate(recent_peaks)),
    )
    acct = Account(balance=balance, qty=qty, cost=cost, entry_tick=entry)
    f = build_features(view, acct)
    assert f.dtype == np.float32 and f.shape == (N_FEATURES,)
    assert np.isfinite(f).all()


@settings(max_examples=60, deadline=None)
@given(
    prices=st.lists(st.floats(0.001, 5000.0), min_size=1, max_size=120),
    qty=st.integers(0, 10**12),
    cost=st.integers(1, 10**12),
    entry=st.integers(-1, 50),
)
def test_batch_equals_builder_on_arbitrary_positive_prices(prices, qty, cost, entry) -> None:
    acct = Account(balance=7 * 10**8, qty=qty, cost=cost, entry_tick=entry)
    batch = build_batch(prices, account=acct, recent=RECENT[:5], stats=STATS)
    builder = FeatureBuilder()
    for t in range(len(prices)):
        view = _view(prices, t, started=None, recent=RECENT[:5])
        np.testing.assert_array_equal(builder.build(view, acct), batch[t])



def test_return_cache_gives_the_same_floats_as_the_direct_computation() -> None:
    # Arrange: a real game fed tick by tick through PriceHistory snapshots of one growing
    # list, with a copy-on-write correction (a new list object) half way, as the machine does
    from rugsd.daemon.events import Phase
    from rugsd.daemon.game.accounting import Account
    from rugsd.daemon.game.engine import generate_game
    from rugsd.daemon.state.prices import PriceHistory
    from rugsd.daemon.state.view import GameView
    from rugsd.strategy.features import FeatureBuilder, build_features

    prices = list(generate_game("ab" * 32, "20250101-00000000000000aa").prices)
    data: list[float] = []
    builder = FeatureBuilder()
    account = Account(balance=10**9, credited=10**9)
    for t, p in enumerate(prices):
        if t == len(prices) // 2:
            data = list(data)  # the machine copies before correcting an old slot
            data[t // 2] = data[t // 2] * 1.01
        data.append(p)
        view = GameView(game_id="g", phase=Phase.ACTIVE, tick=t, price=p,
                        prices=PriceHistory(data, t + 1), peak=max(data), cooldown_ms=0,
                        allow_prebuys=False, ts_ms=1000 + 250 * t, started_ts_ms=1000)
        # Act
        cached = builder.build(view, account).copy()
        direct = build_features(view, account)
        # Assert: bit-identical
        assert cached.tobytes() == direct.tobytes(), f"tick {t}"


# -- schema 2: game clock, account-size invariance, limits and orders in flight -----------


def test_features_read_no_receive_time() -> None:
    prices = max(_sim_games(10), key=len)
    acct = buy(open_account(10**9), 10**7, prices[3], 3)[0]
    for t in (0, 5, len(prices) - 1):
        a = build_features(replace(_view(prices, t), ts_ms=10**12, started_ts_ms=10**12 - 7),
                           acct)
        b = build_features(replace(_view(prices, t), ts_ms=5, started_ts_ms=None), acct)
        np.testing.assert_array_equal(a, b)


@settings(max_examples=80, deadline=None)
@given(
    scale=st.sampled_from([2, 10, 100, 1000]),
    cost=st.integers(0, 10**8),
    tick=st.integers(0, 600),
    pending=st.integers(0, 3),
)
def test_features_do_not_depend_on_the_account_size(scale, cost, tick, pending) -> None:
    # the same position on a 1 SOL account and on a bigger one: every feature equal
    prices = [1.0 + 0.001 * i for i in range(tick + 1)]
    view = _view(prices, tick)
    qty = int(cost / 0.9) if cost else 0
    small = Account(balance=10**9, qty=qty, cost=cost, entry_tick=0 if cost else None)
    big = replace(small, balance=10**9 * scale)
    c = Commitments(pending_buy=10**7 * pending, pending_orders=pending, orders_last_minute=3)
    np.testing.assert_array_equal(build_features(view, small, commitments=c),
                                  build_features(view, big, commitments=c))


def test_an_order_in_flight_counts_as_position_and_uses_the_budgets() -> None:
    view = _view([1.0, 1.01], 1)
    flat = open_account(10**9)
    f0 = build_features(view, flat)
    f1 = build_features(view, flat, commitments=Commitments(pending_buy=5 * 10**7,
                                                            pending_orders=1))
    i = FEATURE_INDEX
    assert f0[i["has_position"]] == 0.0 and f1[i["has_position"]] == 1.0
    assert f1[i["position_cost_frac"]] == pytest.approx(0.5)  # 0.05 of max_position 0.1
    assert f1[i["order_pending"]] == 1.0
    assert f1[i["buy_room_frac"]] == pytest.approx(0.5)  # 0.05 left of max_position
    assert f1[i["exposure_frac"]] == pytest.approx(0.25)  # 0.05 of max_exposure 0.2


def test_budgets_say_when_the_gate_would_refuse_an_entry() -> None:
    i = FEATURE_INDEX
    view = _view([1.0, 1.01], 1)
    at_reserve = build_features(view, open_account(10**8))  # 0.1 SOL = the reserve
    assert at_reserve[i["cash_frac"]] == 0.0 and at_reserve[i["buy_room_frac"]] == 0.0
    rate = build_features(view, open_account(10**9),
                          commitments=Commitments(orders_last_minute=30))
    assert rate[i["rate_budget_frac"]] == 0.0
    lost = build_features(view, open_account(10**9),
                          commitments=Commitments(day_start_equity=10**9 + 5 * 10**8))
    assert lost[i["loss_budget_frac"]] == 0.0 and lost[i["buy_room_frac"]] == 0.0
    late = replace(view, tick=501)
    assert build_features(late, open_account(10**9))[i["entry_open"]] == 0.0
    closing = replace(view, phase=Phase.PRESALE, tick=-1, cooldown_ms=200)
    assert build_features(closing, open_account(10**9))[i["entry_open"]] == 0.0
