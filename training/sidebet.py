"""The sidebet model: P(rug within the next 40 ticks | features at tick t), honestly judged.

Rows: every active tick of every game, features from ``rugsd.strategy.features_batch``
(bit-identical to what the daemon computes live), label ``rug_tick <= t + 40``. The game
has a constant 0.5 % hazard, so the null model is ``p = 1 - 0.995**40 ≈ 0.182`` at every
tick; the model is only *usable* (manifest ``sidebet_usable``) if on held-out games its
Brier score is lower than the null model's AND its AUC above 0.5, both with a bootstrap
95 % CI (resampling games) excluding zero difference. Otherwise the report says so and
the ONNX strategy never uses it to bet.

The network sees the game and session blocks only (the account block is zeroed inside
the graph: the rug cannot depend on our account), normalised by training-set statistics
folded into the graph.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from rugsd.daemon.game.accounting import Account
from rugsd.daemon.game.rules import RUG_PROB, SIDEBET_WINDOW
from rugsd.daemon.state.view import GameSummary
from rugsd.strategy.features import ACCOUNT_SLICE, N_FEATURES
from rugsd.strategy.features_batch import build_batch
from rugsd.training import stats as st
from rugsd.training.episodes import HISTORY_SIZE, GameSpec
from rugsd.training.export import to_onnx_bytes

BASELINE_P = 1.0 - (1.0 - RUG_PROB) ** SIDEBET_WINDOW


def summaries(games: Sequence[GameSpec]) -> list[GameSummary]:
    """Session summaries (what ``gameHistory`` gives the state machine)."""
    return [GameSummary(g.game_id, g.rug_tick, g.peak) for g in games]


def recent_for(games: Sequence[GameSpec], i: int) -> tuple[GameSummary, ...]:
    """The finished games the daemon knows while ``games[i]`` runs: a recorded game's
    replayed session (``GameSpec.recent``), else the games before it in ``games``."""
    g = games[i]
    if g.events is not None:
        return g.recent
    return tuple(summaries(games[max(0, i - HISTORY_SIZE):i]))


def game_rows(games: Sequence[GameSpec], balance: int = 0) -> tuple[np.ndarray, np.ndarray,
                                                                      np.ndarray]:
    """Features [n, F], labels [n] (bool) and game index [n] for every active tick."""
    xs, ys, gs = [], [], []
    acct = Account(balance=balance, credited=balance)
    for i, g in enumerate(games):
        n = g.rug_tick
        x = build_batch(g.prices, account=acct, recent=recent_for(games, i))
        xs.append(x)
        ys.append(n <= np.arange(n) + SIDEBET_WINDOW)
        gs.append(np.full(n, i, dtype=np.int64))
    if not xs:
        return (np.zeros((0, N_FEATURES), np.float32), np.zeros(0, bool), np.zeros(0, np.int64))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(gs)


def norm_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std (std floored at 1e-6) in float32."""
    mean = x.astype(np.float64).mean(axis=0)
    std = np.maximum(x.astype(np.float64).std(axis=0), 1e-6)
    return mean.astype(np.float32), std.astype(np.float32)


class Normalise(nn.Module):
    """``clip((x - mean) / std, ±clip)``; optional input mask (zeroed features)."""

    def __init__(self, mean: np.ndarray, std: np.ndarray, keep: np.ndarray | None = None,
                 clip: float = 10.0) -> None:
        super().__init__()
        keep = np.ones(len(mean), np.float32) if keep is None else keep.astype(np.float32)
        self.register_buffer("mean", torch.tensor(np.asarray(mean, np.float32)))
        self.register_buffer("inv_std", torch.tensor(1.0 / np.asarray(std, np.float32)))
        self.register_buffer("keep", torch.tensor(keep))
        self.clip = float(clip)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised, clipped, masked features."""
        z = (x - self.mean) * self.inv_std
        return torch.clamp(z, -self.clip, self.clip) * self.keep


class SidebetNet(nn.Module):
    """obs [N, F] → p_rug [N, 1]."""

    def __init__(self, mean: np.ndarray, std: np.ndarray, hidden: int = 32) -> None:
        super().__init__()
        keep = np.ones(N_FEATURES, np.float32)
        keep[ACCOUNT_SLICE] = 0.0
        self.norm = Normalise(mean, std, keep)
        self.body = nn.Sequential(nn.Linear(N_FEATURES, hidden), nn.Tanh(),
                                  nn.Linear(hidden, 1))
        with torch.no_grad():  # start at the base rate: the null model
            self.body[2].bias.fill_(float(np.log(BASELINE_P / (1 - BASELINE_P))))

    def logit(self, obs: torch.Tensor) -> torch.Tensor:
        """Pre-sigmoid output."""
        return self.body(self.norm(obs))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """P(rug within 40 ticks)."""
        return torch.sigmoid(self.logit(obs))


@dataclass(slots=True)
class SidebetResult:
    """A trained sidebet model, its ONNX bytes and its held-out evaluation."""

    net: SidebetNet
    onnx: bytes
    metrics: dict = field(default_factory=dict)
    usable: bool = False
    heldout_p: np.ndarray | None = None
    heldout_y: np.ndarray | None = None


def train_net(x: np.ndarray, y: np.ndarray, *, seed: int = 0, epochs: int = 3,
              budget_s: float = 60.0, batch: int = 2048, lr: float = 1e-3,
              progress=None) -> SidebetNet:
    """Fit ``SidebetNet`` with BCE (Adam), stopping at ``budget_s``."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    mean, std = norm_stats(x)
    net = SidebetNet(mean, std)
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=1e-4)
    loss_fn = nn.BCEWithLogitsLoss()
    xt = torch.from_numpy(np.ascontiguousarray(x, np.float32))
    yt = torch.from_numpy(y.astype(np.float32)).unsqueeze(1)
    n = x.shape[0]
    steps = max(1, epochs * ((n + batch - 1) // batch))
    done = 0
    t0 = time.monotonic()
    net.train()
    for _ in range(epochs):
        perm = torch.from_numpy(rng.permutation(n))
        for lo in range(0, n, batch):
            idx = perm[lo : lo + batch]
            opt.zero_grad()
            loss = loss_fn(net.logit(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            done += 1
            if progress is not None:
                progress(done, steps)
            if time.monotonic() - t0 > budget_s:
                return net.eval()
    return net.eval()


def predict(net: SidebetNet, x: np.ndarray) -> np.ndarray:
    """p_rug [n] from the torch model."""
    with torch.no_grad():
        return net(torch.from_numpy(np.ascontiguousarray(x, np.float32))).numpy()[:, 0]


def evaluate(y: np.ndarray, p: np.ndarray, games: np.ndarray, seed: int = 0,
             n_boot: int = 300) -> dict:
    """Held-out AUC/Brier vs the constant-hazard baseline with game-bootstrap CIs."""
    y = y.astype(bool)
    base = np.full_like(p, BASELINE_P, dtype=np.float64)
    yf = y.astype(np.float64)
    d_row = (p - yf) ** 2 - (base - yf) ** 2  # Brier difference per row (model - base)
    n_g = int(games.max()) + 1 if games.size else 0
    per_game_d = np.bincount(games, weights=d_row, minlength=n_g)
    per_game_n = np.bincount(games, minlength=n_g).astype(np.float64)
    brier_ci = st.ratio_ci(per_game_d, per_game_n, n_boot=n_boot, seed=seed)
    starts = np.r_[0, np.cumsum(per_game_n.astype(np.int64))]  # rows are grouped by game

    def auc_of(sample: np.ndarray) -> float:
        idx = np.concatenate([np.arange(starts[g], starts[g + 1]) for g in sample])
        return st.auc(y[idx], p[idx]) - 0.5

    auc_boot = st.bootstrap_games(n_g, auc_of, n_boot=min(n_boot, 200), seed=seed) if n_g else \
        np.zeros(1)
    auc_ci = st.ci95(auc_boot)
    model_brier, base_brier = st.brier(y, p), st.brier(y, base)
    usable = bool(brier_ci[1] < 0.0 and auc_ci[0] > 0.0)
    return {
        "rows": int(y.size),
        "games": n_g,
        "base_rate_observed": float(yf.mean()) if y.size else 0.0,
        "baseline_p": BASELINE_P,
        "auc": st.auc(y, p),
        "auc_minus_half_ci95": list(auc_ci),
        "brier": model_brier,
        "brier_baseline": base_brier,
        "brier_diff": model_brier - base_brier,
        "brier_diff_ci95": list(brier_ci),
        "p_mean": float(p.mean()) if p.size else 0.0,
        "p_std": float(p.std()) if p.size else 0.0,
        "calibration": st.calibration(y, p),
        "usable": usable,
        "verdict": (
            "beats the constant-hazard baseline (Brier and AUC CIs exclude 0)" if usable else
            "does NOT beat the constant-hazard baseline p=0.182: sidebet_usable=false, "
            "the strategy will never bet on it"
        ),
    }


def export_sidebet(net: SidebetNet) -> bytes:
    """ONNX bytes: ``obs`` [N, F] → ``p_rug`` [N, 1]."""
    return to_onnx_bytes(net.eval(), (torch.zeros(2, N_FEATURES),), ["obs"], ["p_rug"])


def train_sidebet(train: Sequence[GameSpec], heldout: Sequence[GameSpec], *, seed: int = 0,
                  budget_s: float = 60.0, balance: int = 0, progress=None) -> SidebetResult:
    """Rows → fit → held-out evaluation → ONNX (with an onnxruntime parity check)."""
    x, y, _ = game_rows(train, balance)
    net = train_net(x, y, seed=seed, budget_s=budget_s, progress=progress)
    hx, hy, hg = game_rows(heldout, balance)
    p = predict(net, hx)
    metrics = evaluate(hy, p, hg, seed=seed)
    data = export_sidebet(net)
    from rugsd.strategy.onnx_runtime import make_session

    sample = hx[:1000]
    got = make_session(data).run(["p_rug"], {"obs": sample})[0][:, 0]
    metrics["onnx_max_abs_diff"] = float(np.max(np.abs(got - p[:1000]))) if sample.size else 0.0
    metrics["train_rows"] = int(y.size)
    metrics["train_base_rate"] = float(y.mean()) if y.size else 0.0
    return SidebetResult(net, data, metrics, metrics["usable"], p, hy)
