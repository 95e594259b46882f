"""The venue-integrity halt: HALTED with its own reason, nothing passes the gate, only an
operator's resume (or flatten) lifts it, and other causes clearing never do."""

from __future__ import annotations

from risk_helpers import T0, context, live_state

from rugsd.risk.gate import check
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.states import TradingState
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Action, Intent


def test_a_venue_halt_is_halted_with_its_own_reason() -> None:
    state, change = live_state().venue_integrity(T0, "game g1 path_mismatch")
    assert state.trading_state is TradingState.HALTED and state.venue_halted
    assert change.reason is ReasonCode.VENUE_INTEGRITY and change.detail.startswith("game g1")
    assert state.venue_integrity(T0 + 1)[1] is None  # already halted: reported once


def test_fresh_ticks_do_not_lift_it_an_operator_resume_does() -> None:
    state, _ = live_state().venue_integrity(T0)
    state, _ = state.on_feed_event(T0 + 100)
    assert state.trading_state is TradingState.HALTED
    resumed, change = state.resume(T0 + 200, "cli")
    assert resumed.trading_state is TradingState.ACTIVE
    assert change.reason is ReasonCode.OPERATOR_RESUME


def test_flatten_lifts_it_to_let_exits_through() -> None:
    state, _ = live_state().venue_integrity(T0)
    flat, _ = state.flatten(T0 + 1)
    assert flat.trading_state is TradingState.REDUCING and not flat.venue_halted


def test_a_kill_outranks_it_and_arm_does_not_lift_it() -> None:
    state, _ = live_state().venue_integrity(T0)
    killed, _ = state.kill(T0 + 1)
    assert killed.trading_state is TradingState.KILLED
    armed, _ = killed.arm(T0 + 2)
    assert armed.trading_state is TradingState.HALTED and armed.venue_halted


def test_the_gate_says_why_it_refuses() -> None:
    verdict = check(Intent(Action.BUY, amount=1_000_000),
                    context(state=live_state(venue_halted=True)))
    assert isinstance(verdict, Refusal) and verdict.reason is ReasonCode.STATE_HALTED
    assert "venue integrity" in verdict.detail
