"""The daemon's ``DecisionCore``, stepped one decision at a time, plus the agent strategy.

A gym step must show the agent the features *before* it chooses, while the core asks
its strategy for an intent in the middle of ``step(event)``. ``SteppedCore`` turns on the
core's public ``defer_decisions``: ``feed(event)`` applies an update up to the decision
and reports whether one is pending; ``complete()`` runs it (``complete_decision``) —
feature builder, strategy, risk gate, paper order — exactly as the daemon would. The features are built once and cached, so the strategy receives the same array
the agent saw.

``AgentStrategy`` is the strategy plugged into that core: ``decide`` returns the intent of
the action the agent chose (``ActionTable.intent_for``) and records the features it was
given.
"""

from __future__ import annotations

import numpy as np

from rugsd.daemon.core.decision import CoreSettings, DecisionCore, StepOutput
from rugsd.daemon.game.accounting import Account
from rugsd.daemon.state.view import GameView
from rugsd.risk.context import RiskLimits, SessionFigures
from rugsd.strategy.actions import WAIT_INDEX, ActionTable
from rugsd.strategy.base import Decision, Strategy
from rugsd.strategy.features import NO_COMMITMENTS, Commitments, FeatureBuilder


class AgentStrategy:
    """Returns the intent of ``next_action``; records the features it was given."""

    name = "agent"

    def __init__(self, table: ActionTable) -> None:
        """Intents come from ``table`` (the bundle's action table)."""
        self.table = table
        self.next_action = WAIT_INDEX
        self.last_features: np.ndarray | None = None
        self.calls = 0

    def decide(
        self, view: GameView, account: Account, features: np.ndarray | None = None
    ) -> Decision:
        """The intent for the agent's chosen action."""
        self.calls += 1
        # a copy: the core's builder reuses its buffer for the next decision
        self.last_features = None if features is None else features.copy()
        return Decision(self.table.intent_for(self.next_action))


class _CachedBuilder(FeatureBuilder):
    """A ``FeatureBuilder`` that reuses its last vector for the same (view, account)."""

    __slots__ = ("_key",)

    def __init__(self, limits: RiskLimits) -> None:
        super().__init__(None, limits)
        self._key: tuple[object, object, Commitments] | None = None

    def build(self, view: GameView, account: Account,
              commitments: Commitments = NO_COMMITMENTS) -> np.ndarray:
        key = (view, account, commitments)
        k = self._key
        if k is not None and k[0] is view and k[1] is account and k[2] == commitments:
            return self.buffer
        out = super().build(view, account, commitments)
        self._key = key
        return out


class SteppedCore(DecisionCore):
    """``DecisionCore`` with deferred decisions (``defer_decisions``), one at a time."""

    def __init__(self, strategy: Strategy, cfg: CoreSettings, account: Account,
                 figures: SessionFigures | None = None) -> None:
        """As ``DecisionCore`` (fresh risk state; ``figures`` None: a fresh session)."""
        super().__init__(strategy, cfg, account, figures=figures)
        self._seen: tuple[GameView, int, Commitments] | None = None
        self.builder = _CachedBuilder(cfg.limits)
        self.defer_decisions = True

    @property
    def pending(self) -> bool:
        """A decision waits for ``complete()``."""
        return self.pending_decision is not None

    def feed(self, event: object) -> bool:
        """Apply one input up to its decision; True when a decision is now pending."""
        if self.pending_decision is not None:
            raise RuntimeError("complete() the pending decision before feeding more events")
        self.step(event)
        return self.pending_decision is not None

    def observation(self) -> np.ndarray:
        """The feature vector the pending decision will be given (the builder's buffer)."""
        if self.pending_decision is None:
            raise RuntimeError("no decision pending")
        view, ts_ms, _ = self.pending_decision
        commitments = self.commitments(view, ts_ms)
        # nothing moves between this and ``complete()``: the decision reuses these
        self._seen = (view, ts_ms, commitments)
        return self.builder.build(view, self.account, commitments)

    def commitments(self, view: GameView, ts_ms: int) -> Commitments:
        """As ``DecisionCore.commitments``; the pending decision's from ``observation()``."""
        seen = self._seen
        if seen is not None and seen[0] is view and seen[1] == ts_ms:
            return seen[2]
        return super().commitments(view, ts_ms)

    def complete(self) -> StepOutput:
        """Run the pending decision through the core (strategy → gate → paper order)."""
        try:
            return self.complete_decision()
        finally:
            self._seen = None
