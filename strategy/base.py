"""The strategy contract: view + account (+ features) in, one ``Decision`` out.

Strategies are deterministic: the same sequence of calls gives the same decisions (no
randomness unless a seed is passed in). They may keep small per-game memory (e.g. "already
bought this game"), which is part of the input sequence, so replays stay deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from rugsd.daemon.fastinit import fast_init
from rugsd.daemon.game.accounting import Account
from rugsd.daemon.state.view import GameView
from rugsd.strategy.intents import Intent


@fast_init
@dataclass(frozen=True, slots=True)
class ModelOutputs:
    """What the models said on this tick (journal, TUI).

    ``action_probs``: softmax of the policy logits over valid actions (0 for masked ones);
    ``p_rug``: the sidebet model's P(rug within 40 ticks); ``action_index``: the chosen
    action; ``held_non_finite``: a model returned NaN/inf (or p_rug outside [0, 1]) or
    failed, so the strategy waited this tick.
    """

    action_probs: tuple[float, ...] | None = None
    p_rug: float | None = None
    action_index: int | None = None
    held_non_finite: bool = False


@fast_init
@dataclass(frozen=True, slots=True)
class Decision:
    """A strategy's answer for one tick: an intent (never an order) and model outputs."""

    intent: Intent
    outputs: ModelOutputs | None = None


@runtime_checkable
class Strategy(Protocol):
    """Anything that decides. ``features`` is the ``rugsd.strategy.features`` vector (may be None
    for strategies that do not use it; the ONNX strategy then builds it itself)."""

    name: str

    def decide(
        self, view: GameView, account: Account, features: np.ndarray | None = None
    ) -> Decision:
        """Decide for this tick."""
        ...
