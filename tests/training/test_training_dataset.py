"""Dataset: games from Parquet (DuckDB), recordings and the simulator; splits by game/time."""

from __future__ import annotations

import numpy as np

from rugsd.daemon.journal.dataset import DatasetWriter
from rugsd.daemon.journal.records import GameRecord, TickRecord
from rugsd.training.dataset import (
    build_dataset,
    games_from_dataset,
    games_from_recordings,
    simulated_games,
    split_by_time,
    split_three,
)


def _write_game(w: DatasetWriter, gid: str, prices: list[float], rug: float, t0: int,
                skip: int | None = None) -> None:
    for t, p in enumerate(prices):
        if t != skip:
            w.write(TickRecord("run", t0 + 250 * t, gid, t, p, "active"))
    w.write(TickRecord("run", t0 + 250 * len(prices), gid, len(prices), rug, "rugged"))
    w.write(GameRecord("run", gid, len(prices), max(prices), None, t0 + 250 * len(prices)))


def test_parquet_dataset_keeps_complete_games_only(tmp_path):
    w = DatasetWriter(tmp_path / "dataset", games_per_file=1)
    _write_game(w, "20250101-aaaaaaaaaaaaaaaa", [1.0, 1.1, 1.2], 0.01, 1_000)
    _write_game(w, "20250101-bbbbbbbbbbbbbbbb", [1.0, 0.9, 0.8, 0.7], 0.01, 90_000, skip=2)
    w.close()

    games = games_from_dataset(tmp_path)

    assert [g.game_id for g in games] == ["20250101-aaaaaaaaaaaaaaaa"]
    assert games[0].prices.tolist() == [1.0, 1.1, 1.2] and games[0].rug_price == 0.01
    assert games[0].start_ms == 1_000


def test_real_recordings_yield_complete_games(real_data_dir):
    files = sorted((real_data_dir / "recordings").glob("*.jsonl"))[:15]

    games = games_from_recordings(files)

    assert len(games) >= 10
    for g in games:
        assert g.prices[0] == 1.0 and g.rug_tick == len(g.prices) and g.rug_price < 0.021


def test_time_split_holds_out_the_newest_games_and_never_shares_one():
    games = simulated_games(50, seed=3)

    train, held = split_by_time(games, 0.3)

    assert len(held) == 15 and len(train) == 35
    assert max(g.start_ms for g in train) < min(g.start_ms for g in held)
    assert not {g.game_id for g in train} & {g.game_id for g in held}


def test_three_way_split_is_by_time_and_disjoint():
    games = simulated_games(40, seed=4)

    train, valid, held = split_three(games, 0.15, 0.25)

    assert (len(train), len(valid), len(held)) == (24, 6, 10)
    assert max(g.start_ms for g in train) < min(g.start_ms for g in valid)
    assert max(g.start_ms for g in valid) < min(g.start_ms for g in held)


def test_build_dataset_keeps_simulated_sets_disjoint_and_reseeds_evaluation(tmp_path):
    ds = build_dataset(data_dir=tmp_path, sim_train=30, sim_valid=10, sim_heldout=20, seed=1,
                       sim_seed=77)
    other = build_dataset(data_dir=tmp_path, sim_train=30, sim_valid=10, sim_heldout=20, seed=1,
                          sim_seed=78)

    train_ids = {g.game_id for g in ds.train}
    assert len(ds.train) == 30 and len(ds.validation) == 10 and len(ds.heldout) == 20
    assert not train_ids & {g.game_id for g in ds.heldout + ds.validation}
    a, b = ds.train[0].prices, ds.heldout[0].prices
    assert not (len(a) == len(b) and np.array_equal(a, b))
    # another retrain, another simulated evaluation set; the same training set
    assert [g.game_id for g in other.train] == [g.game_id for g in ds.train]
    assert not np.array_equal(other.heldout[0].prices, ds.heldout[0].prices)


def test_recorded_games_keep_their_events_and_the_replays_session(sample_recordings):
    games = games_from_recordings([sample_recordings])

    assert len(games) >= 20
    ids = [g.game_id for g in games]
    for i, g in enumerate(games):
        assert g.events and all(e.game_id == g.game_id for e in g.events)
        assert g.events[-1].rugged  # through the rug (and its repeats)
        assert g.game_id not in {r.game_id for r in g.recent}
        assert not {r.game_id for r in g.recent} & set(ids[i + 1:])  # nothing later
    assert any(g.recent for g in games[1:])


def test_games_journaled_by_the_daemon_reach_training_and_a_bad_file_is_skipped(tmp_path):
    from rugsd.daemon.journal import open_journal

    with open_journal(tmp_path) as journal:  # ticks are journaled, not written to Parquet
        for i, gid in enumerate(("20250101-cccccccccccccccc", "20250101-dddddddddddddddd")):
            t0 = 1_000 + 100_000 * i
            journal.write_many(TickRecord("run", t0 + 250 * t, gid, t, 1.0 + t / 10, "active")
                               for t in range(3))
            journal.write(TickRecord("run", t0 + 750, gid, 3, 0.01, "rugged"))
            journal.write(GameRecord("run", gid, 3, 1.2, None, t0 + 750))
    legacy = DatasetWriter(tmp_path / "dataset", games_per_file=1)  # an older data dir's file
    _write_game(legacy, "20250101-aaaaaaaaaaaaaaaa", [1.0, 1.1], 0.01, 500)
    legacy.close()
    (tmp_path / "dataset" / "ticks" / "part-0000000000009-broken.parquet").write_bytes(b"PAR1")

    ds = build_dataset(data_dir=tmp_path, sim_train=0, sim_valid=0, sim_heldout=0,
                       heldout_frac=0.5)

    real = sorted(g.game_id for g in (*ds.train, *ds.validation, *ds.heldout))
    assert real == ["20250101-aaaaaaaaaaaaaaaa", "20250101-cccccccccccccccc",
                    "20250101-dddddddddddddddd"]
    assert ds.stats.dataset_unreadable_files == 1
