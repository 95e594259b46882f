"""The house-edge meter: do the games behave as the published rules say?

Over a set of finished games (``GameFacts``: rug tick, the tick from which the game was
watched, the prices seen) it measures, next to what the rules commit to (DESIGN.md §1):

- **rug hazard per tick** — maximum likelihood ``games / ticks at risk``, a 95 % CI
  (log scale, delta method) and the two-sided p-value of the committed 0.5 % (the ticks
  at risk of n games are a sum of n geometric laws under the rules);
- **fit of the rug ticks to the geometric law** — chi-square over bins of equal committed
  probability (expected count >= 5 each; df = bins - 1: nothing is estimated), and the
  KS distance with its (conservative, for a discrete law) p-value;
- **sidebet hit rate** — every 40-tick window a sidebet could cover (starting at the
  watch start, then every 40 ticks while the game lives) hits iff the rug falls inside;
  the rules say ``1 - 0.995**40`` ≈ 18.2 % for each, whatever the history. Our own
  sidebets (from the journal's fills) are shown beside it when there are any;
- **expected cost of holding one tick** — ``1 - mean(p[t+1] / p[t])`` over every observed
  step, the step into the rug included, against the rules' ``committed_hold_cost()``.

Games watched from the middle (a mid-game connect) are selected *because* they lasted:
counting them whole would bias every figure towards long games. Each game therefore
counts only from its ``entry_tick`` on (its residual life is geometric again under the
rules: no memory), and steps before it are left out.

The verdict on top is plain words: "consistent with the published rules", or what
deviates. Four checks are made, so each is judged at 5 % / 4 (Bonferroni); the CIs
shown are the usual 95 % ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rugsd.daemon.audit.model import Observed
from rugsd.daemon.audit.stats import Z95, chi2_sf, ks_p_value, two_sided, wilson
from rugsd.daemon.game.rules import (
    BIG_MOVE_PROB,
    DRIFT_MAX,
    DRIFT_MIN,
    GOD_CANDLE_MOVE,
    GOD_CANDLE_PROB,
    RUG_PRICE_MAX_FRACTION,
    RUG_PRICE_MIN_SCALE,
    RUG_PROB,
    SIDEBET_WINDOW,
)

ALPHA = 0.05
CHECKS = 4
MIN_PER_BIN = 5  # expected games per chi-square bin
MAX_BINS = 20
FEW_GAMES = 100  # below this, "consistent" says little: the tests have no power
PLOT_NAME = "fairness_survival.png"


def committed_hold_cost() -> float:
    """Expected fractional loss of holding a position one tick, under the published rules.

    ``1 - E[p(t+1) / p(t)]``: no rug (99.5 %) → mean drift +0.4375 % on the 7/8 of ticks
    that are not big moves (big moves are symmetric), v3 god candles ×10 with 1e-5; rug
    (0.5 %) → the position is worth the rug price, on average 2 % × 0.55 of the previous
    price (the simulator's rug-price law). ≈ 0.056 % per tick.
    """
    no_rug = (1 - GOD_CANDLE_PROB) * (1 + (1 - BIG_MOVE_PROB) * (DRIFT_MIN + DRIFT_MAX) / 2) \
        + GOD_CANDLE_PROB * GOD_CANDLE_MOVE
    rug_fraction = RUG_PRICE_MAX_FRACTION * (1 + RUG_PRICE_MIN_SCALE) / 2
    return 1.0 - (1 - RUG_PROB) * no_rug - RUG_PROB * rug_fraction


SIDEBET_HIT = 1 - (1 - RUG_PROB) ** SIDEBET_WINDOW
"""The committed chance that a 40-tick sidebet window holds the rug (≈ 18.2 %)."""


@dataclass(frozen=True, slots=True)
class GameFacts:
    """One finished game as the meter needs it.

    ``entry_tick``: watched from this tick on (0: from its start, or known whole from the
    revealed record). ``prices``: tick → price seen (the rug price at ``rug_tick``).
    """

    game_id: str
    rug_tick: int
    entry_tick: int = 0
    prices: Mapping[int, float] = field(default_factory=dict)

    @property
    def residual(self) -> int:
        """Ticks at risk after the watch started (>= 1 for a usable game)."""
        return self.rug_tick - self.entry_tick


def facts_of(observed: Observed, seed_rug_tick: int | None = None) -> GameFacts | None:
    """The meter's view of an observed game; None when it cannot count.

    The rug tick is the one the venue showed (the seed's when the venue showed none and
    the game verified: pass ``seed_rug_tick`` then). A game known only from its revealed
    record counts whole (entry 0: the feed's history is every game, not a selection); a
    game first seen at its rug says nothing about its length and is left out.
    """
    rugs = [c.tick for c in observed.claims if c.rug]
    rug = min(rugs) if rugs else seed_rug_tick
    entry = observed.entry_tick
    if entry is None:
        watched = any(observed.counts.get(k) for k in ("live", "partial", "backfill"))
        if watched or not observed.counts.get("history"):
            return None
        entry = 0
    if rug is None:
        return None
    prices: dict[int, float] = {}
    for c in observed.claims:
        if c.rug == (c.tick == rug):
            prices.setdefault(c.tick, c.value)
    return GameFacts(observed.game_id, rug, entry, prices)


def fairness(games: Iterable[GameFacts], ours: tuple[int, int] | None = None) -> dict[str, Any]:
    """The fairness section (JSON-ready). ``ours``: our own sidebets (won, lost)."""
    usable = [g for g in games if g.residual >= 1]
    n = len(usable)
    life = np.array([g.residual for g in usable], dtype=np.int64)
    out: dict[str, Any] = {
        "games": n,
        "committed": {"rug_hazard": RUG_PROB, "sidebet_hit_rate": SIDEBET_HIT,
                      "hold_cost_per_tick": committed_hold_cost()},
        "alpha": ALPHA,
        "checks": CHECKS,
        "hazard": _hazard(life),
        "geometric_fit": _fit(life),
        "sidebet": _sidebets(usable, ours),
        "hold_cost": _hold_cost(usable),
    }
    out["consistent"], out["verdict"], out["deviations"] = _verdict(out, n)
    return out


def _hazard(life: np.ndarray) -> dict[str, Any]:
    n = int(life.size)
    ticks = int(life.sum())
    if n == 0:
        return {"committed": RUG_PROB, "estimate": None, "ci95": None, "ticks_at_risk": 0,
                "p_value": None}
    h = n / ticks
    half = Z95 * math.sqrt(max(1e-12, 1 - h) / n)  # on log h
    p0 = RUG_PROB
    z = (ticks - n / p0) / math.sqrt(n * (1 - p0) / (p0 * p0))
    return {"committed": p0, "estimate": h, "ci95": [h * math.exp(-half), h * math.exp(half)],
            "ticks_at_risk": ticks, "p_value": two_sided(z)}


def geometric_bins(n: int, p: float = RUG_PROB) -> list[int]:
    """Upper edges (inclusive) of chi-square bins with about equal committed probability;
    the last bin is open (None is not used: its edge is the largest int64)."""
    k = max(2, min(MAX_BINS, n // MIN_PER_BIN))
    edges: list[int] = []
    log_q = math.log1p(-p)
    for i in range(1, k):
        edge = max(1, math.ceil(math.log1p(-i / k) / log_q))
        if not edges or edge > edges[-1]:
            edges.append(edge)
    edges.append(np.iinfo(np.int64).max)
    return edges


def chi_square_geometric(life: np.ndarray, p: float = RUG_PROB) -> tuple[float, int, list]:
    """Chi-square statistic of residual lives against Geometric(p) on {1, 2, ...}."""
    n = int(life.size)
    edges = geometric_bins(n, p)
    q = 1.0 - p
    lo = 0
    stat = 0.0
    bins = []
    for hi in edges:
        top = hi if hi < np.iinfo(np.int64).max else None
        prob = q**lo - (q**top if top is not None else 0.0)
        seen = int(((life > lo) & (life <= hi)).sum())
        expected = n * prob
        stat += (seen - expected) ** 2 / expected
        bins.append({"ticks": [lo + 1, top], "observed": seen, "expected": expected})
        lo = hi
    return stat, len(edges) - 1, bins


def ks_geometric(life: np.ndarray, p: float = RUG_PROB) -> float:
    """Largest distance between the empirical CDF of ``life`` and Geometric(p)'s."""
    if life.size == 0:
        return 0.0
    x = np.sort(life)
    n = x.size
    cdf = 1.0 - (1.0 - p) ** x.astype(float)
    upper = np.arange(1, n + 1) / n
    lower = np.arange(0, n) / n
    # the law is discrete: compare at the jumps, just after (upper) and just before (lower)
    before = 1.0 - (1.0 - p) ** (x.astype(float) - 1.0)
    return float(max(np.max(np.abs(upper - cdf)), np.max(np.abs(lower - before))))


def _fit(life: np.ndarray) -> dict[str, Any]:
    n = int(life.size)
    if n < 2 * MIN_PER_BIN:
        return {"test": "chi-square", "statistic": None, "df": None, "p_value": None,
                "bins": [], "ks_d": None, "ks_p_value": None,
                "note": f"needs at least {2 * MIN_PER_BIN} games"}
    stat, df, bins = chi_square_geometric(life)
    d = ks_geometric(life)
    return {"test": "chi-square", "statistic": stat, "df": df, "p_value": chi2_sf(stat, df),
            "bins": bins, "ks_d": d, "ks_p_value": ks_p_value(d, n)}


def _sidebets(games: list[GameFacts], ours: tuple[int, int] | None) -> dict[str, Any]:
    windows = hits = 0
    for g in games:
        start = g.entry_tick
        while start < g.rug_tick:
            windows += 1
            hits += g.rug_tick <= start + SIDEBET_WINDOW
            start += SIDEBET_WINDOW
    out: dict[str, Any] = {"committed": SIDEBET_HIT, "windows": windows, "hits": hits,
                           "rate": hits / windows if windows else None,
                           "ci95": list(wilson(hits, windows)) if windows else None,
                           "p_value": None}
    if windows:
        p0 = SIDEBET_HIT
        out["p_value"] = two_sided((hits - windows * p0) / math.sqrt(windows * p0 * (1 - p0)))
    if ours is not None and sum(ours) > 0:
        won, lost = ours
        out["ours"] = {"won": won, "lost": lost, "rate": won / (won + lost),
                       "ci95": list(wilson(won, won + lost))}
    return out


def _hold_cost(games: list[GameFacts]) -> dict[str, Any]:
    ratios: list[float] = []
    for g in games:
        prices = g.prices
        for t in range(g.entry_tick, g.rug_tick):
            a, b = prices.get(t), prices.get(t + 1)
            if a is not None and b is not None and a > 0:
                ratios.append(b / a)
    committed = committed_hold_cost()
    if len(ratios) < 2:
        return {"committed": committed, "estimate": None, "ci95": None, "steps": len(ratios),
                "p_value": None}
    r = np.asarray(ratios)
    cost = float(1.0 - r.mean())
    se = float(r.std(ddof=1) / math.sqrt(r.size))
    p_value = two_sided((cost - committed) / se) if se > 0 else None
    return {"committed": committed, "estimate": cost, "ci95": [cost - Z95 * se, cost + Z95 * se],
            "steps": int(r.size), "p_value": p_value}


def _deviation(name: str, part: dict[str, Any]) -> str:
    """One line on a failed check (its figures and p-value)."""
    p = f"p={part['p_value']:.2g}"
    if name == "hazard":
        lo, hi = part["ci95"]
        return (f"rug hazard {part['estimate']:.3%}/tick (95 % CI {lo:.3%}–{hi:.3%}) vs the "
                f"committed {RUG_PROB:.1%} ({p})")
    if name == "geometric_fit":
        return (f"rug ticks do not follow the geometric law (chi-square "
                f"{part['statistic']:.1f}, df {part['df']}, {p})")
    if name == "sidebet":
        return f"sidebet windows hit {part['rate']:.1%} vs the committed {SIDEBET_HIT:.1%} ({p})"
    return (f"holding costs {part['estimate']:.3%}/tick vs the committed "
            f"{part['committed']:.3%} ({p})")


def _verdict(out: dict[str, Any], n: int) -> tuple[bool | None, str, list[str]]:
    if n == 0:
        return None, "no finished game with a known rug tick: nothing to judge", []
    level = ALPHA / CHECKS
    bad = [_deviation(name, out[name])
           for name in ("hazard", "geometric_fit", "sidebet", "hold_cost")
           if out[name]["p_value"] is not None and out[name]["p_value"] < level]
    if bad:
        return False, "DEVIATES from the published rules: " + "; ".join(bad), bad
    text = f"consistent with the published rules over {n} game{'s' if n != 1 else ''}"
    if n < FEW_GAMES:
        text += f" (only {n}: the checks have little power)"
    return True, text, []


def write_survival_plot(games: Iterable[GameFacts], directory: Path) -> tuple[Path | None, str]:
    """Survival of the residual lives vs the geometric law, as a PNG in ``directory``.

    Returns (path, message); path is None when matplotlib (the ``train`` extra) is absent
    or there is nothing to plot — the message says which.
    """
    life = np.sort(np.array([g.residual for g in games if g.residual >= 1], dtype=np.int64))
    if life.size == 0:
        return None, "no game to plot"
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None, ("the survival plot needs matplotlib, in the train extra "
                      "(pip install 'rugsd[train]'); every figure above is complete without it")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / PLOT_NAME
    ticks = np.arange(0, int(life.max()) + 1)
    empirical = 1.0 - np.searchsorted(life, ticks, side="right") / life.size
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.step(ticks, empirical, where="post", label=f"observed ({life.size} games)")
    ax.plot(ticks, (1 - RUG_PROB) ** ticks, "--", label=f"geometric, {RUG_PROB:.1%}/tick")
    ax.set_yscale("log")
    ax.set_xlabel("ticks since the game was first watched")
    ax.set_ylabel("P(not rugged yet)")
    ax.set_title("Rug survival vs the committed law")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path, f"survival plot written to {path}"
