"""Reason codes: why the risk gate refused an intent, and why the trading state changed.

One enum for both, so the journal, the TUI and ``rugsd status`` speak one vocabulary.
Values are stable strings (they are written to the journal and the kill latch): add new
members freely, never rename a value.
"""

from __future__ import annotations

from enum import StrEnum


class ReasonCode(StrEnum):
    """Every refusal and every trading-state change carries exactly one of these."""

    # --- refusals: the intent itself ------------------------------------------------------
    INVALID_INTENT = "invalid_intent"  # unknown action, negative amount, ...
    ORDER_PENDING = "order_pending"  # one order in flight at a time

    # --- refusals: trading state ----------------------------------------------------------
    STATE_HALTED = "state_halted"  # HALTED: no orders at all
    STATE_REDUCING = "state_reducing"  # REDUCING: entries refused, exits allowed
    STATE_KILLED = "state_killed"  # KILLED: only the flattening sell (100 %)

    # --- refusals: venue rules (the venue would refuse these) ----------------------------
    NO_GAME = "no_game"  # no game id yet
    PHASE_UNKNOWN = "phase_unknown"  # nothing usable seen yet
    ENTRY_AFTER_RUG = "entry_after_rug"
    SETTLEMENT_COOLDOWN = "settlement_cooldown"  # cooldownTimer in (10000, 15000]
    SELL_OUTSIDE_ACTIVE = "sell_outside_active"  # no selling in presale/cooldown/after rug
    BAD_PRICE = "bad_price"  # non-finite or non-positive price in the view
    BELOW_MIN_BET = "below_min_bet"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    NO_POSITION = "no_position"
    BAD_SELL_PERCENTAGE = "bad_sell_percentage"
    SIDEBET_OPEN = "sidebet_open"  # one sidebet at a time

    # --- refusals: configured limits (Settings.risk) -------------------------------------
    ENTRY_PHASE = "entry_phase"  # phase not in risk.entry_phases
    ENTRY_TICK_RANGE = "entry_tick_range"  # outside [entry_min_tick, entry_max_tick]
    PRESALE_CLOSING = "presale_closing"  # too little presale left for a 1.00x fill
    MAX_BET = "max_bet"
    MAX_POSITION = "max_position"
    MAX_EXPOSURE = "max_exposure"
    BALANCE_RESERVE = "balance_reserve"
    MAX_SIDEBETS_PER_GAME = "max_sidebets_per_game"
    LOSS_BUDGET = "loss_budget"  # worst case of this entry would breach a loss limit
    RATE_LIMIT = "rate_limit"  # max_orders_per_minute

    # --- state changes (DAILY_LOSS_LIMIT / DRAWDOWN_LIMIT also refuse entries) -----------
    DAILY_LOSS_LIMIT = "daily_loss_limit"
    DRAWDOWN_LIMIT = "drawdown_limit"
    FEED_STALE = "feed_stale"
    FEED_RECOVERED = "feed_recovered"
    EXECUTION_ERRORS = "execution_errors"
    OPERATOR_PAUSE = "operator_pause"
    OPERATOR_RESUME = "operator_resume"
    OPERATOR_FLATTEN = "operator_flatten"
    FLATTEN_DONE = "flatten_done"
    OPERATOR_KILL = "operator_kill"  # TUI / control socket / `rugsd kill`
    KILL_FILE = "kill_file"  # DATA_DIR/run/KILL appeared
    KILL_SIGNAL = "kill_signal"  # SIGUSR1
    KILL_LATCH_RESTORED = "kill_latch_restored"  # latch file found at start
    OPERATOR_ARM = "operator_arm"
    VENUE_INTEGRITY = "venue_integrity"  # a game broke its provably-fair commitment

    # --- faults (docs/reliability.md): stop first, explain second -------------------------
    STRATEGY_ERROR = "strategy_error"  # strategy.decide raised: WAIT for that decision
    STEP_ERROR = "step_error"  # any other exception inside a decision step -> KILLED
    JOURNAL_WRITE_FAILED = "journal_write_failed"  # a durable write failed -> KILLED
    JOURNAL_RECOVERED = "journal_recovered"  # writes succeed again (still KILLED)
    TASK_DIED = "task_died"  # a supervised task of the daemon ended -> KILLED
    IMPLAUSIBLE_INPUT = "implausible_input"  # a feed value outside the game's rules
    ORPHAN_PENDING = "orphan_pending"  # exposure from an ended game awaits its settlement
    ORPHAN_SETTLED = "orphan_settled"  # that exposure was settled (how: in the detail)
    STOPPED_WITH_POSITION = "stopped_with_position"  # the daemon stopped while exposed
