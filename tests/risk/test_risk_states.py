"""Trading-state transitions: derived from independent causes, each change journaled."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from risk_helpers import LIMITS, SOL, T0, live_state

from rugsd.risk.context import DAY_MS, SessionFigures
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.states import RiskState, StateChange, TradingState

STALE_MS = 2000


def test_a_fresh_state_is_halted_until_the_first_feed_event():
    state = RiskState()
    assert state.trading_state is TradingState.HALTED

    state, change = state.on_feed_event(T0)

    assert state.trading_state is TradingState.ACTIVE
    assert change == StateChange(TradingState.HALTED, TradingState.ACTIVE,
                                 ReasonCode.FEED_RECOVERED, T0, "feed event received")


def test_stale_feed_halts_and_fresh_ticks_restore_active():
    state = live_state()
    same, none = state.check_feed(T0 + STALE_MS, STALE_MS)  # exactly at the limit: fresh
    assert none is None and same is state

    stale, change = state.check_feed(T0 + STALE_MS + 1, STALE_MS)
    assert stale.trading_state is TradingState.HALTED
    assert change.reason is ReasonCode.FEED_STALE and change.ts_ms == T0 + STALE_MS + 1
    assert stale.check_feed(T0 + 10 * STALE_MS, STALE_MS)[1] is None  # reported once

    back, change = stale.on_feed_event(T0 + 5000)
    assert back.trading_state is TradingState.ACTIVE
    assert (change.old, change.new, change.reason) == (
        TradingState.HALTED, TradingState.ACTIVE, ReasonCode.FEED_RECOVERED)


def test_stale_feed_recovery_restores_reducing_not_active():
    state = live_state(reduce_only=True)
    stale, _ = state.check_feed(T0 + 3000, STALE_MS)
    back, _ = stale.on_feed_event(T0 + 4000)
    assert back.trading_state is TradingState.REDUCING


def test_stale_feed_recovery_does_not_undo_an_operator_pause():
    state, _ = live_state().pause(T0, "lunch")
    stale, _ = state.check_feed(T0 + 3000, STALE_MS)
    back, change = stale.on_feed_event(T0 + 4000)

    assert back.trading_state is TradingState.HALTED
    assert back.operator_paused and not back.feed_stale
    assert change.old is change.new is TradingState.HALTED  # a cause cleared, state kept

    resumed, change = back.resume(T0 + 5000)
    assert resumed.trading_state is TradingState.ACTIVE
    assert change.reason is ReasonCode.OPERATOR_RESUME


def test_stale_feed_recovery_does_not_undo_a_kill():
    killed, _ = live_state().kill(T0, detail="operator")
    stale, _ = killed.check_feed(T0 + 3000, STALE_MS)
    back, _ = stale.on_feed_event(T0 + 4000)
    assert back.trading_state is TradingState.KILLED


def test_daily_loss_beyond_the_limit_kills():
    limits = replace(LIMITS, max_drawdown=100 * SOL)
    figures = SessionFigures.start(10 * SOL, T0).observe(10 * SOL - limits.max_daily_loss, T0)
    state, change = live_state().check_losses(figures, limits, T0)
    assert change is None  # exactly at the limit is not a breach

    figures = figures.observe(figures.equity - 1, T0 + 1)
    state, change = state.check_losses(figures, limits, T0 + 1)

    assert state.trading_state is TradingState.KILLED
    assert state.kill_reason is ReasonCode.DAILY_LOSS_LIMIT
    assert (change.old, change.new, change.reason) == (
        TradingState.ACTIVE, TradingState.KILLED, ReasonCode.DAILY_LOSS_LIMIT)


def test_drawdown_from_the_session_peak_kills():
    limits = replace(LIMITS, max_daily_loss=100 * SOL)
    figures = SessionFigures.start(10 * SOL, T0).observe(12 * SOL, T0)
    figures = figures.observe(12 * SOL - limits.max_drawdown - 1, T0 + 1)  # still up on the day

    state, change = live_state().check_losses(figures, limits, T0 + 1)

    assert state.trading_state is TradingState.KILLED
    assert change.reason is ReasonCode.DRAWDOWN_LIMIT


def test_daily_loss_resets_at_utc_midnight_but_the_peak_does_not():
    day0 = (T0 // DAY_MS) * DAY_MS
    figures = SessionFigures.start(10 * SOL, day0 + 1000).observe(9 * SOL, day0 + 2000)
    assert figures.daily_loss == SOL

    next_day = figures.observe(9 * SOL, day0 + DAY_MS)

    assert next_day.daily_loss == 0 and next_day.day_start_equity == 9 * SOL
    assert next_day.drawdown == SOL  # session peak kept


def test_consecutive_execution_errors_reduce_and_stay_until_resume():
    state = live_state()
    for n in range(LIMITS.max_execution_errors - 1):
        state, change = state.on_execution_error(T0 + n, LIMITS.max_execution_errors)
        assert change is None and state.trading_state is TradingState.ACTIVE
    state, change = state.on_execution_error(T0 + 10, LIMITS.max_execution_errors, "timeout")

    assert state.trading_state is TradingState.REDUCING
    assert change.reason is ReasonCode.EXECUTION_ERRORS and "timeout" in change.detail

    ok, _ = state.on_execution_ok(T0 + 11)
    assert ok.trading_state is TradingState.REDUCING and ok.exec_errors == 0
    resumed, _ = ok.resume(T0 + 12)
    assert resumed.trading_state is TradingState.ACTIVE


def test_an_acknowledged_order_restarts_the_error_count():
    state = live_state()
    for n in range(10):
        state, _ = state.on_execution_error(T0 + n, 2)
        state, _ = state.on_execution_ok(T0 + n)
    assert state.trading_state is TradingState.ACTIVE


def test_flatten_sells_then_stays_reducing():
    paused, _ = live_state().pause(T0)
    state, change = paused.flatten(T0 + 1, "operator flatten")
    assert state.trading_state is TradingState.REDUCING and state.wants_flatten
    assert (change.old, change.new) == (TradingState.HALTED, TradingState.REDUCING)

    still, none = state.on_position(qty=5, ts_ms=T0 + 2)
    assert none is None and still.wants_flatten

    done, change = still.on_position(qty=0, ts_ms=T0 + 3)
    assert change.reason is ReasonCode.FLATTEN_DONE
    assert done.trading_state is TradingState.REDUCING and not done.wants_flatten


def test_kill_is_idempotent_and_keeps_the_first_reason():
    state, first = live_state().kill(T0, ReasonCode.KILL_FILE)
    again, second = state.kill(T0 + 1, ReasonCode.OPERATOR_KILL)
    assert first.reason is ReasonCode.KILL_FILE and second is None
    assert again.kill_reason is ReasonCode.KILL_FILE


def test_resume_does_not_clear_a_kill_but_arm_does():
    state, _ = live_state().kill(T0)
    resumed, _ = state.resume(T0 + 1)
    assert resumed.trading_state is TradingState.KILLED

    armed, change = resumed.arm(T0 + 2, "token ok")
    assert armed.trading_state is TradingState.ACTIVE
    assert (change.old, change.new, change.reason) == (
        TradingState.KILLED, TradingState.ACTIVE, ReasonCode.OPERATOR_ARM)


def test_restored_latch_starts_killed():
    state, change = RiskState().restore_kill(T0, "latch from disk")
    assert state.trading_state is TradingState.KILLED
    assert change.reason is ReasonCode.KILL_LATCH_RESTORED


# --- properties -------------------------------------------------------------------------------
OPS = st.sampled_from(["event", "check_feed", "error", "ok", "pause", "resume", "flatten",
                       "flat", "kill", "arm"])


def _apply(state: RiskState, op: str, ts: int) -> tuple[RiskState, StateChange | None]:
    if op == "event":
        return state.on_feed_event(ts)
    if op == "check_feed":
        return state.check_feed(ts, STALE_MS)
    if op == "error":
        return state.on_execution_error(ts, 3)
    if op == "ok":
        return state.on_execution_ok(ts)
    if op == "flat":
        return state.on_position(0, ts)
    return getattr(state, op)(ts)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(OPS, st.integers(0, 5000)), max_size=40))
def test_state_is_a_function_of_its_causes_and_changes_are_recorded(steps):
    state, ts = RiskState(), T0
    for op, dt in steps:
        ts += dt
        new, change = _apply(state, op, ts)
        # only an operator arm leaves KILLED
        if state.killed and op != "arm":
            assert new.trading_state is TradingState.KILLED
        # only a resume (or flatten, which reduces) lifts an operator pause
        if state.operator_paused and op not in ("resume", "flatten"):
            assert new.operator_paused
        if change is not None:
            assert (change.old, change.new, change.ts_ms) == (
                state.trading_state, new.trading_state, ts)
        elif new.trading_state is not state.trading_state:
            raise AssertionError(f"{op}: state changed without a record")
        state = new


@settings(max_examples=300, deadline=None)
@given(st.builds(RiskState, killed=st.booleans(),
                 kill_reason=st.one_of(st.none(), st.sampled_from(list(ReasonCode))),
                 operator_paused=st.booleans(), feed_stale=st.booleans(),
                 exec_errors=st.integers(0, 10), exec_degraded=st.booleans(),
                 reduce_only=st.booleans(), flatten_pending=st.booleans(),
                 last_event_ms=st.one_of(st.none(), st.integers(0, 2**42)),
                 venue_halted=st.booleans()),
       st.integers(0, 2**42))
def test_a_feed_event_changes_only_the_stale_flag_and_the_time(state, ts):
    # on_feed_event builds the common case positionally: it must equal ``replace``
    new, change = state.on_feed_event(ts)
    assert new == replace(state, feed_stale=False, last_event_ms=ts)
    assert (change is None) == (not state.feed_stale)
