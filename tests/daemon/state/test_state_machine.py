"""GameStateMachine: phases, ticks, gaps, joins, game changes, view snapshots."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from state_helpers import GID_A, GID_B, GID_C, cooldown, finished, of_type, rug, run, tick

from rugsd.daemon.events import Phase, SessionStats
from rugsd.daemon.state.machine import MAX_TICK, STALE_RESET, GameStateMachine, classify
from rugsd.daemon.state.prices import PriceHistory
from rugsd.daemon.state.transitions import (
    Anomaly,
    AnomalyKind,
    GameFinished,
    HistoryRevealed,
    NewGame,
    PhaseChanged,
    Rugged,
    TickAdvanced,
    TickSource,
)


def _anomalies(transitions: list) -> list[AnomalyKind]:
    return [a.kind for a in of_type(transitions, Anomaly)]


def test_initial_view_is_unknown() -> None:
    view = GameStateMachine().view
    assert view.game_id is None and view.phase is Phase.UNKNOWN
    assert view.tick == -1 and view.price == 1.0 and len(view.prices) == 0


def test_classify_checks_rugged_before_active() -> None:
    assert classify(rug(5, 0.01)) is Phase.RUGGED
    assert classify(tick(5, 1.2)) is Phase.ACTIVE
    assert classify(cooldown(15000)) is Phase.COOLDOWN
    assert classify(cooldown(10000)) is Phase.PRESALE
    assert classify(cooldown(9000, allow=False)) is Phase.COOLDOWN


def test_a_whole_game_from_cooldown_to_the_next_game() -> None:
    m = GameStateMachine()
    out = run(m, [cooldown(15000, ts=1), cooldown(14900, ts=2), cooldown(10000, ts=3)])
    assert out == [
        NewGame(GID_A),
        PhaseChanged(Phase.UNKNOWN, Phase.COOLDOWN),
        PhaseChanged(Phase.COOLDOWN, Phase.PRESALE),
    ]
    assert m.view.phase is Phase.PRESALE and m.view.cooldown_ms == 10000 and m.view.allow_prebuys

    out = run(m, [tick(0, 1.0, ts=100), tick(1, 1.1, ts=350), tick(2, 0.9, ts=600)])
    assert out == [
        PhaseChanged(Phase.PRESALE, Phase.ACTIVE),
        TickAdvanced(0, 1.0),
        TickAdvanced(1, 1.1),
        TickAdvanced(2, 0.9),
    ]
    view = m.view
    assert (view.tick, view.price, view.peak) == (2, 0.9, 1.1)
    assert list(view.prices) == [1.0, 1.1, 0.9]
    assert view.started_ts_ms == 100 and view.last_tick_ts_ms == 600 and view.ts_ms == 600

    out = m.apply(rug(3, 0.005, ts=850))
    assert out == (
        PhaseChanged(Phase.ACTIVE, Phase.RUGGED),
        Rugged(GID_A, 3, 0.005),
        GameFinished(m.view.recent[-1], (1.0, 1.1, 0.9, 0.005), complete=True, rug_seen=True),
    )
    view = m.view
    assert view.phase is Phase.RUGGED and (view.rug_tick, view.rug_price) == (3, 0.005)
    assert view.peak == 1.1 and view.recent[-1].rug_tick == 3 and view.recent[-1].peak == 1.1

    history = (finished(GID_A, [1.0, 1.1, 0.9, 0.005], ts=900),)
    out = list(m.apply(replace(cooldown(15000, GID_B, ts=1000), history=history)))
    assert [type(t) for t in out] == [HistoryRevealed, NewGame, PhaseChanged]
    assert out[2] == PhaseChanged(Phase.RUGGED, Phase.COOLDOWN)
    assert m.finished_game(GID_A).server_seed == "seed-aaaa"  # type: ignore[union-attr]
    assert m.view.game_id == GID_B and m.view.tick == -1 and m.view.price == 1.0
    assert [s.game_id for s in m.view.recent] == [GID_A]


def test_duplicate_and_older_ticks_are_ignored_and_counted() -> None:
    m = GameStateMachine()
    run(m, [tick(0, 1.0), tick(1, 1.1), tick(2, 1.2)])
    out = run(m, [tick(2, 9.9), tick(1, 9.9)])
    assert _anomalies(out) == [AnomalyKind.DUPLICATE_TICK, AnomalyKind.OUT_OF_ORDER]
    assert not of_type(out, TickAdvanced)
    assert list(m.view.prices) == [1.0, 1.1, 1.2] and m.view.price == 1.2
    assert m.stats()["anomaly.duplicate_tick"] == 1 and m.stats()["anomaly.out_of_order"] == 1


def test_gap_is_filled_from_partial_prices() -> None:
    m = GameStateMachine()
    run(m, [tick(0, 1.0), tick(1, 1.1)])
    out = m.apply(tick(4, 1.4, partial=[(2, 1.2), (3, 1.3), (4, 1.4)]))
    assert of_type(out, TickAdvanced) == [
        TickAdvanced(2, 1.2, TickSource.PARTIAL),
        TickAdvanced(3, 1.3, TickSource.PARTIAL),
        TickAdvanced(4, 1.4, TickSource.LIVE),
    ]
    assert _anomalies(out) == [AnomalyKind.GAP]
    assert list(m.view.prices) == [1.0, 1.1, 1.2, 1.3, 1.4]


def test_gap_without_data_carries_forward_then_is_corrected() -> None:
    m = GameStateMachine()
    run(m, [tick(0, 1.0), tick(1, 1.1)])
    out = m.apply(tick(4, 1.4))
    assert [t.source for t in of_type(out, TickAdvanced)] == [
        TickSource.CARRIED,
        TickSource.CARRIED,
        TickSource.LIVE,
    ]
    before = m.view
    assert list(before.prices) == [1.0, 1.1, 1.1, 1.1, 1.4]
    m.apply(tick(5, 1.5, partial=[(3, 3.0), (4, 1.4), (5, 1.5)]))  # corrects tick 3
    m.apply(tick(2, 2.0))  # a late tick corrects its carried slot
    assert list(m.view.prices) == [1.0, 1.1, 2.0, 3.0, 1.4, 1.5]
    assert m.view.peak == 3.0
    assert list(before.prices) == [1.0, 1.1, 1.1, 1.1, 1.4]  # the old snapshot never changes


def test_mid_game_join_with_backfill() -> None:
    m = GameStateMachine()
    path = [1.0, 1.05, 1.2, 0.9, 1.3, 1.25]
    out = m.apply(tick(5, 1.25, backfill=path))
    assert out[0] == NewGame(GID_A) and out[1] == PhaseChanged(Phase.UNKNOWN, Phase.ACTIVE)
    assert AnomalyKind.MID_GAME_JOIN in _anomalies(out)
    assert of_type(out, TickAdvanced) == [TickAdvanced(5, 1.25)]
    view = m.view
    assert list(view.prices) == path and view.peak == 1.3
    assert view.started_ts_ms is None and view.tick == 5
    out = m.apply(rug(6, 0.01))
    finished_ = of_type(out, GameFinished)[0]
    assert finished_.complete and finished_.prices == (*path, 0.01)


def test_mid_game_join_without_history_starts_at_one_and_carries() -> None:
    m = GameStateMachine()
    m.apply(tick(4, 2.0, partial=[(3, 1.9), (4, 2.0)]))
    view = m.view
    assert list(view.prices) == [1.0, 1.0, 1.0, 1.9, 2.0]
    assert len(view.prices) == view.tick + 1 and view.started_ts_ms is None
    out = m.apply(rug(5, 0.01))
    assert of_type(out, GameFinished)[0].complete is False


def test_late_backfill_corrects_the_unknown_history() -> None:
    m = GameStateMachine()
    m.apply(tick(10, 2.0, partial=[(8, 1.8), (9, 1.9), (10, 2.0)]))
    path = [1.0, 1.1, 1.2, 1.3, 1.4, 5.0, 1.6, 1.7, 1.8, 1.9]
    out = m.apply(tick(9, 1.9, backfill=path))  # older tick carrying the full history
    assert AnomalyKind.OUT_OF_ORDER in _anomalies(out) and AnomalyKind.BACKFILL in _anomalies(out)
    assert list(m.view.prices) == [*path, 2.0] and m.view.peak == 5.0


def test_missed_start_after_watching_presale_is_a_gap() -> None:
    m = GameStateMachine()
    run(m, [cooldown(15000), cooldown(5000)])
    out = m.apply(tick(2, 1.2, partial=[(1, 1.1), (2, 1.2)]))
    assert of_type(out, TickAdvanced) == [
        TickAdvanced(0, 1.0, TickSource.CARRIED),
        TickAdvanced(1, 1.1, TickSource.PARTIAL),
        TickAdvanced(2, 1.2),
    ]
    assert AnomalyKind.GAP in _anomalies(out) and AnomalyKind.MID_GAME_JOIN not in _anomalies(out)


def test_phase_regressions_and_timer_going_up_are_ignored() -> None:
    m = GameStateMachine()
    run(m, [cooldown(14000), cooldown(9000)])
    out = run(m, [cooldown(14500), cooldown(9500)])
    assert _anomalies(out) == [AnomalyKind.OUT_OF_ORDER, AnomalyKind.OUT_OF_ORDER]
    assert m.view.phase is Phase.PRESALE and m.view.cooldown_ms == 9000
    run(m, [tick(0, 1.0)])
    out = run(m, [cooldown(100)])
    assert _anomalies(out) == [AnomalyKind.OUT_OF_ORDER] and m.view.phase is Phase.ACTIVE


def test_post_rug_repeats_are_counted_not_anomalies() -> None:
    m = GameStateMachine()
    run(m, [tick(0, 1.0), tick(1, 1.1), rug(2, 0.01)])
    out = run(m, [rug(4, 0.01), rug(5, 0.01)])
    assert out == [] and m.stats()["post_rug"] == 2 and m.view.rug_tick == 2
    out = run(m, [tick(3, 1.2)])
    assert _anomalies(out) == [AnomalyKind.OUT_OF_ORDER]
    assert m.view.tick == 2 and len(m.view.prices) == 3


def test_events_of_an_ended_game_are_ignored() -> None:
    m = GameStateMachine()
    run(m, [tick(0, 1.0), rug(1, 0.01), cooldown(15000, GID_B, ts=500)])
    out = run(m, [tick(1, 1.0, GID_A), rug(1, 0.01, GID_A)])
    assert _anomalies(out) == [AnomalyKind.STALE_GAME, AnomalyKind.STALE_GAME]
    assert m.view.game_id == GID_B and m.view.phase is Phase.COOLDOWN


def test_new_game_while_active_finishes_the_old_one() -> None:
    m = GameStateMachine()
    run(m, [tick(0, 1.0), tick(1, 1.5), tick(2, 1.2)])
    out = m.apply(cooldown(15000, GID_B, ts=5000))
    assert _anomalies(out) == [AnomalyKind.MISSED_RUG]
    done = of_type(out, GameFinished)[0]
    assert not done.rug_seen and not done.complete
    assert done.summary.game_id == GID_A and done.summary.rug_tick == 3 and done.summary.peak == 1.5
    assert out.index(done) < out.index(NewGame(GID_B))
    assert m.view.recent[-1] == done.summary


def test_missed_rug_uses_the_history_in_the_same_event() -> None:
    m = GameStateMachine()
    run(m, [tick(0, 1.0), tick(1, 1.5)])
    history = (finished(GID_A, [1.0, 1.5, 1.7, 0.01]),)
    out = m.apply(replace(cooldown(15000, GID_B), history=history))
    done = of_type(out, GameFinished)[0]
    assert done.summary.rug_tick == 3 and done.summary.peak == 1.7


def test_game_that_never_started_is_abandoned() -> None:
    m = GameStateMachine()
    run(m, [cooldown(15000), cooldown(5000)])
    out = m.apply(cooldown(15000, GID_B))
    assert _anomalies(out) == [AnomalyKind.ABANDONED_GAME] and not of_type(out, GameFinished)


def test_invalid_ticks_are_rejected() -> None:
    m = GameStateMachine()
    m.apply(tick(0, 1.0))
    bad_price = tick(1, float("nan"))
    out = run(m, [bad_price, tick(MAX_TICK + 1, 1.0), tick(1, -1.0)])
    assert _anomalies(out) == [AnomalyKind.INVALID_UPDATE] * 3
    assert m.view.tick == 0


def test_history_mismatch_is_reported() -> None:
    m = GameStateMachine()
    run(m, [tick(0, 1.0), rug(1, 0.01)])
    history = (finished(GID_A, [1, 1.2, 0.01]),)
    out = m.apply(replace(cooldown(15000, GID_B), history=history))
    assert AnomalyKind.HISTORY_MISMATCH in _anomalies(out)
    assert m.view.recent[-1].rug_tick == 2  # the server's record wins


def test_recent_is_bounded_and_ordered() -> None:
    m = GameStateMachine(recent_limit=3)
    gids = [f"20251207-{i:016x}" for i in range(5)]
    for i, gid in enumerate(gids):
        run(m, [tick(0, 1.0, gid, ts=i * 10), rug(i + 1, 0.01, gid, ts=i * 10 + 5)])
    assert [s.game_id for s in m.view.recent] == gids[2:]
    assert [s.rug_tick for s in m.view.recent] == [3, 4, 5]


def test_stale_history_arriving_after_a_watched_rug_goes_before_it() -> None:
    m = GameStateMachine()
    run(m, [tick(0, 1.0, GID_C, ts=10_000), rug(1, 0.01, GID_C, ts=10_100)])
    older = (finished(GID_B, [1, 1.2, 1.1, 0.01], ts=9_000), finished(GID_A, [1, 0.01], ts=8_000))
    m.apply(replace(rug(5, 0.01, GID_C, ts=10_200), history=older))
    assert [s.game_id for s in m.view.recent] == [GID_A, GID_B, GID_C]


def test_session_values_follow_the_latest_update() -> None:
    m = GameStateMachine()
    stats = SessionStats(2.5, 1, 2, 3, 4)
    m.apply(replace(cooldown(15000), stats=stats, server_seed_hash="h", version="v3"))
    view = m.view
    assert view.stats == stats and view.server_seed_hash == "h" and view.version == "v3"


def test_view_is_cached_until_the_next_update() -> None:
    m = GameStateMachine()
    m.apply(tick(0, 1.0))
    assert m.view is m.view
    first = m.view
    m.apply(tick(1, 1.1))
    assert m.view is not first and len(first.prices) == 1 and first.tick == 0


def test_price_history_snapshot_behaves_like_a_sequence() -> None:
    data = [1.0, 2.0, 3.0]
    snap = PriceHistory(data, 2)
    data.append(4.0)
    assert len(snap) == 2 and list(snap) == [1.0, 2.0] and snap[-1] == 2.0
    assert snap[:] == [1.0, 2.0] and snap[::-1] == [2.0, 1.0] and snap[5:] == []
    assert snap == [1.0, 2.0] and snap == (1.0, 2.0) and snap != [1.0, 2.0, 3.0]
    assert 2.0 in snap and 3.0 not in snap and snap.index(2.0) == 1
    with pytest.raises(IndexError):
        snap[2]
    np.testing.assert_array_equal(np.asarray(snap), np.array([1.0, 2.0]))


def test_an_ended_game_that_keeps_coming_back_is_followed_again() -> None:
    m = GameStateMachine()
    run(m, [tick(0, 1.0), rug(1, 0.01), cooldown(15000, GID_B)])
    out = run(m, [cooldown(15000 - 100 * i, GID_A) for i in range(STALE_RESET - 1)])
    assert _anomalies(out) == [AnomalyKind.STALE_GAME] * (STALE_RESET - 1)
    assert m.view.game_id == GID_B
    out = list(m.apply(cooldown(13000, GID_A)))  # a restarted source replays its game ids
    assert _anomalies(out) == [AnomalyKind.FEED_RESET, AnomalyKind.ABANDONED_GAME]
    assert NewGame(GID_A) in out and m.view.game_id == GID_A
    assert m.view.phase is Phase.COOLDOWN and m.view.tick == -1
