"""The house-edge meter: games drawn from the published law come out consistent, games
from another law are named as deviating, and games joined mid-game do not bias it."""

from __future__ import annotations

import numpy as np
import pytest

from rugsd.daemon.audit.fairness import (
    SIDEBET_HIT,
    GameFacts,
    chi_square_geometric,
    committed_hold_cost,
    fairness,
    write_survival_plot,
)
from rugsd.daemon.game.engine import generate_game, rug_price

RNG_SEED = 20260101


def _geometric(n: int, p: float, seed: int = RNG_SEED) -> np.ndarray:
    return np.random.default_rng(seed).geometric(p, n)


def _facts(lives: np.ndarray, entry: int = 0) -> list[GameFacts]:
    return [GameFacts(f"g{i}", int(x) + entry, entry) for i, x in enumerate(lives)]


def test_games_from_the_published_law_are_consistent() -> None:
    out = fairness(_facts(_geometric(2000, 0.005)))
    assert out["consistent"] is True
    assert out["verdict"].startswith("consistent with the published rules over 2000 games")
    lo, hi = out["hazard"]["ci95"]
    assert lo < 0.005 < hi
    assert out["geometric_fit"]["p_value"] > 0.01
    assert out["geometric_fit"]["df"] == 19
    s = out["sidebet"]
    assert s["ci95"][0] < SIDEBET_HIT < s["ci95"][1]


def test_a_higher_hazard_is_named_as_a_deviation() -> None:
    out = fairness(_facts(_geometric(2000, 0.0065)))
    assert out["consistent"] is False
    assert out["verdict"].startswith("DEVIATES from the published rules")
    assert any("rug hazard" in d for d in out["deviations"])
    assert out["hazard"]["p_value"] < 0.001


def test_a_wrong_shape_with_the_right_mean_fails_the_fit() -> None:
    # every game rugs at exactly 200 ticks: the hazard is right, the law is not
    out = fairness(_facts(np.full(500, 200)))
    assert out["geometric_fit"]["p_value"] < 1e-6
    assert any("geometric law" in d for d in out["deviations"])


def test_games_joined_mid_game_count_from_where_they_were_seen() -> None:
    # length-biased sampling: only games still alive at tick 150 are seen, from tick 150
    lives = _geometric(20000, 0.005)
    alive = lives[lives > 150]
    joined = [GameFacts(f"g{i}", int(x), 150) for i, x in enumerate(alive)]
    out = fairness(joined)
    assert out["hazard"]["ci95"][0] < 0.005 < out["hazard"]["ci95"][1]
    naive = fairness([GameFacts(f.game_id, f.rug_tick, 0) for f in joined])
    assert naive["hazard"]["estimate"] < 0.003  # what ignoring the selection would claim


def test_chi_square_bins_follow_the_committed_law() -> None:
    stat, df, bins = chi_square_geometric(_geometric(1000, 0.005))
    assert df == len(bins) - 1 == 19
    assert sum(b["observed"] for b in bins) == 1000
    assert sum(b["expected"] for b in bins) == pytest.approx(1000)
    assert all(b["expected"] >= 5 for b in bins)
    assert stat >= 0


def test_sidebet_windows_hit_iff_the_rug_falls_inside() -> None:
    games = [GameFacts("a", 40), GameFacts("b", 41), GameFacts("c", 100, 50)]
    s = fairness(games)["sidebet"]
    # a: [0,40] hit; b: [0,40] miss then [40,80] hit; c: [50,90] miss, [90,130] hit
    assert (s["windows"], s["hits"]) == (5, 3)


def test_hold_cost_from_engine_games_matches_the_committed_cost() -> None:
    rng = np.random.default_rng(5)
    games = []
    for i in range(400):
        o = generate_game(f"fair-{i}", f"20260101-{i:016x}")
        prices = dict(enumerate(o.prices))
        prices[o.rug_tick] = rug_price(o.prices[-1], float(rng.random()))
        games.append(GameFacts(o.game_id, o.rug_tick, 0, prices))
    c = fairness(games)["hold_cost"]
    assert c["ci95"][0] < committed_hold_cost() < c["ci95"][1]
    assert c["steps"] == sum(g.rug_tick for g in games)


def test_no_games_is_said_plainly() -> None:
    out = fairness([])
    assert out["consistent"] is None and "nothing to judge" in out["verdict"]
    assert out["hazard"]["estimate"] is None


def test_committed_hold_cost_is_the_published_expectation() -> None:
    # 99.5 %: drift +0.5 % mean on 7/8 of ticks (big moves are symmetric), god candles
    # x10 with 1e-5; 0.5 %: the rug leaves 2 % x 0.55 of the price on average
    no_rug = (1 - 1e-5) * (1 + 0.875 * 0.005) + 1e-5 * 10
    expected = 1 - 0.995 * no_rug - 0.005 * 0.02 * 0.55
    assert committed_hold_cost() == pytest.approx(expected, rel=1e-12)
    assert 0.00050 < committed_hold_cost() < 0.00051


def test_the_plot_needs_matplotlib_and_says_so(tmp_path, monkeypatch) -> None:
    games = _facts(_geometric(50, 0.005))
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)
    path, note = write_survival_plot(games, tmp_path)
    assert path is None and "train extra" in note


def test_the_plot_is_written_with_matplotlib(tmp_path) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is in the train extra")
    path, note = write_survival_plot(_facts(_geometric(50, 0.005)), tmp_path / "plots")
    assert path is not None and path.stat().st_size > 1000 and str(path) in note
