"""The ONNX strategy: action mask → sidebet model → policy logits → greedy argmax → intent.

Per tick (PRESALE and ACTIVE only; other phases WAIT without running the models):

1. venue mask (``rugsd.strategy.actions``);
2. ``p_rug`` from the sidebet model. SIDEBET stays valid only if the manifest says the
   sidebet model beat the constant-hazard baseline (``sidebet_usable``) *and*
   ``p_rug >= strategy.sidebet_threshold``. An unusable sidebet model is still run, so
   the journal and TUI show its output, but it can never cause a bet;
3. policy logits with that mask (folded into the graph; applied again here, so an
   invalid action can never be chosen even from a graph that ignores its mask);
4. argmax over valid actions (ties → lowest index) — greedy, deterministic.

A non-finite logit among the valid actions, a non-finite or out-of-[0, 1] ``p_rug``, or
an onnxruntime error → WAIT for that tick, ``held_non_finite=True``, ``non_finite_count``
(or ``error_count``) + 1 and a log line (the first, then every 100th).

With a bundle's combined graph (``Bundle.decide``) steps 2 and 3 are one onnxruntime call:
the policy runs with the venue mask and SIDEBET is cleared afterwards. That is the same
decision: the graph folds the mask in entry by entry (the loader checks that no other
logit depends on the SIDEBET bit, and that the combined graph equals the two graphs bit
for bit), and step 4 reads only the finally valid entries. If the combined call raises,
the tick is re-run on the two separate graphs (``decide_fallback_count`` + 1, logged), so
an error holds with the same detail as without a combined graph.
"""

from __future__ import annotations

import math
import struct

import numpy as np
import structlog

from rugsd.daemon.config import StrategyConfig
from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import Account
from rugsd.daemon.game.rules import LAMPORTS_PER_SOL
from rugsd.daemon.state.view import GameView
from rugsd.strategy.actions import SIDEBET_INDEX, ActionTable, mask_values
from rugsd.strategy.base import Decision, ModelOutputs
from rugsd.strategy.bundle import Bundle
from rugsd.strategy.features import ROOM_STATS_SLICE, FeatureBuilder
from rugsd.strategy.intents import Action, Intent

log = structlog.get_logger(__name__)

_ENTRY_PHASES = (Phase.PRESALE, Phase.ACTIVE)
_LOG_EVERY = 100
_exp = math.exp
_ROOM_STATS_OFFSET = ROOM_STATS_SLICE.start * 4  # bytes into the float32 row
_ROOM_STATS_ZEROS = [0.0] * (ROOM_STATS_SLICE.stop - ROOM_STATS_SLICE.start)
_PACK_ROOM_STATS = struct.Struct(f"={len(_ROOM_STATS_ZEROS)}f").pack_into


class OnnxStrategy:
    """Policy + sidebet ONNX models from a loaded ``Bundle``."""

    name = "onnx"

    def __init__(self, bundle: Bundle, cfg: StrategyConfig) -> None:
        """Bind to ``bundle``'s models; sizes and the sidebet threshold from ``cfg``."""
        self.bundle = bundle
        source = f"onnx:{bundle.manifest.version}"
        self.table = ActionTable.from_config(cfg, source=source)
        self._idle = Decision(self.table.intents[0], ModelOutputs())
        self._hold_intent = Intent(Action.WAIT, source=f"{source}:hold")
        self.threshold = cfg.sidebet_threshold
        self.sidebet_usable = bundle.sidebet_usable
        self.features = FeatureBuilder(bundle.obs_row)  # writes straight into the models' input
        self._policy = bundle.policy
        self._sidebet = bundle.sidebet
        self._decide = bundle.decide  # both in one call, or None: two calls
        self.decide_fallback_count = 0
        self.non_finite_count = 0
        self.error_count = 0
        self.balance_warning: str | None = None
        man = bundle.manifest
        self._mask_room_stats = not man.room_stats_in_training
        self._balance_checked = man.train_balance_sol is None
        if man.buy_sizes_sol is not None and list(man.buy_sizes_sol) != list(cfg.buy_sizes_sol):
            log.warning(
                "bundle trained with other buy sizes",
                bundle=man.version,
                trained=man.buy_sizes_sol,
                configured=cfg.buy_sizes_sol,
            )

    def _check_balance(self, account: Account) -> None:
        """Warn once when the account is far from the one the policy was trained with."""
        self._balance_checked = True
        trained = self.bundle.manifest.train_balance_sol or 0.0
        balance = account.balance / LAMPORTS_PER_SOL
        if trained > 0 and not trained / 3 <= balance <= trained * 3:
            self.balance_warning = (
                f"account balance {balance:g} SOL is far from the {trained:g} SOL the policy "
                "was trained with: its account features are outside the training range"
            )
            log.warning("bundle trained on another account size", bundle=self.bundle.manifest.version,
                        balance_sol=balance, trained_sol=trained)

    @property
    def obs_row(self) -> np.ndarray:
        """The models' float32 input row; features built into it are used without a copy."""
        return self._policy.row

    def _hold(self, p_rug: float | None, error: bool, detail: str) -> Decision:
        if error:
            self.error_count += 1
            count = self.error_count
        else:
            self.non_finite_count += 1
            count = self.non_finite_count
        if count == 1 or count % _LOG_EVERY == 0:
            log.warning(
                "model output unusable, holding this tick",
                detail=detail,
                count=count,
                kind="error" if error else "non_finite",
            )
        p = p_rug if p_rug is not None and math.isfinite(p_rug) else None
        return Decision(self._hold_intent, ModelOutputs(None, p, None, True))

    def _run_combined(self, row: np.ndarray, valid: list[bool]) -> tuple[float, list] | None:
        """(p_rug, logits) from the combined graph, or None when it raised."""
        try:
            p_rug, logits = self._decide.run(row, valid)
        except Exception as err:  # noqa: BLE001 -- the two separate graphs decide this tick
            self.decide_fallback_count += 1
            count = self.decide_fallback_count
            if count == 1 or count % _LOG_EVERY == 0:
                log.warning("combined model call failed, running the two models separately",
                            detail=str(err), count=count)
            return None
        return p_rug, logits.tolist()

    def decide(
        self, view: GameView, account: Account, features: np.ndarray | None = None
    ) -> Decision:
        """Decide for this tick (builds the features itself when ``features`` is None)."""
        if view.phase not in _ENTRY_PHASES:
            return self._idle
        if features is None:
            features = self.features.build(view, account)
        row = self._policy.row  # shared by both models (see load_bundle)
        if features is not row:
            row[:] = features
        if self._mask_room_stats:  # as in training (see Manifest.room_stats_in_training)
            _PACK_ROOM_STATS(row, _ROOM_STATS_OFFSET, *_ROOM_STATS_ZEROS)
        if not self._balance_checked:
            self._check_balance(account)
        valid = mask_values(view, account, self.table)
        out = self._run_combined(row, valid) if self._decide is not None else None
        if out is not None:  # one call: the policy saw the venue mask (see module doc)
            p_rug, logits = out
        else:
            try:
                p_rug = self._sidebet.p_rug(row)
            except Exception as err:  # noqa: BLE001 -- a model failure must never crash the daemon
                return self._hold(None, True, f"sidebet: {err}")
        if not 0.0 <= p_rug <= 1.0:  # also false for NaN
            return self._hold(p_rug, False, f"p_rug={p_rug!r}")
        if valid[SIDEBET_INDEX] and (not self.sidebet_usable or p_rug < self.threshold):
            valid[SIDEBET_INDEX] = False
        if out is None:
            try:
                logits = self._policy.logits(row, valid).tolist()
            except Exception as err:  # noqa: BLE001 -- as above
                return self._hold(p_rug, True, f"policy: {err}")
        best = 0
        top = -math.inf
        for i, (ok, v) in enumerate(zip(valid, logits, strict=True)):
            if ok:
                if v - v != 0.0:  # inf or NaN (= not math.isfinite(v), without a call)
                    return self._hold(p_rug, False, f"logit[{i}]={v!r}")
                if v > top:
                    best, top = i, v
        exps = [_exp(v - top) if ok else 0.0 for ok, v in zip(valid, logits, strict=True)]
        total = 0.0
        for e in exps:  # in index order, as the probabilities always were summed
            total += e
        probs = tuple([e / total for e in exps])
        return Decision(self.table.intents[best], ModelOutputs(probs, p_rug, best, False))
