"""The gate's rules, one small function each (freqtrade-protections style).

A rule is ``(intent, ctx) -> Refusal | None``: ``None`` lets the intent through to the
next rule. Rules are grouped by concern and ``rugsd.risk.gate`` runs the groups in order:
intent sanity, trading state, venue rules (what the venue itself would refuse), configured
limits (entries only), rate limit. WAIT never reaches a rule.

Money rules are checked on the account *after* the order, with the integer arithmetic of
``rugsd.daemon.game.accounting``:

- position: ``cost + amount <= max_position`` (buys),
- exposure: open position cost + open sidebet stake after the order ``<= max_exposure``,
- reserve: ``balance - amount >= min_balance_reserve``,
- loss budget: the worst case of an entry (position and sidebets worth nothing, so equity
  = cash after the order) must not breach the daily-loss or drawdown limit. Because equity
  never falls below cash, entries alone can then never trip a loss limit; a drawdown from
  a marked-up position that falls back still can (that is what the KILL is for).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import MIN_BET_LAMPORTS, Account, can_place_sidebet
from rugsd.daemon.game.rules import SELL_PERCENTAGES
from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.states import TradingState
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Action, Intent

Rule = Callable[[Intent, GateContext], "Refusal | None"]


def _refuse(intent: Intent, ctx: GateContext, reason: ReasonCode, detail: str) -> Refusal:
    return Refusal(intent, reason, detail, ctx.ts_ms)


def is_flatten_sell(intent: Intent, ctx: GateContext) -> bool:
    """The risk shell's own exit: SELL 100 % while killed or an operator flatten is pending."""
    return (
        intent.action is Action.SELL
        and intent.percentage == 100
        and ctx.state.wants_flatten
    )


def sidebet_tick(ctx: GateContext) -> int:
    """The tick a sidebet placed now starts at (presale sidebets start at tick 0)."""
    return max(ctx.view.tick, 0)


def open_stake(acct: Account, tick: int) -> int:
    """Stake of a sidebet that can still win at ``tick`` (an expired one is already lost)."""
    bet = acct.sidebet
    return bet.stake if bet is not None and tick < bet.end_tick else 0


# --- intent sanity --------------------------------------------------------------------------
def valid_intent(intent: Intent, ctx: GateContext) -> Refusal | None:
    """Known action; entries carry a positive integer lamport amount."""
    if not isinstance(intent.action, Action) or intent.action is Action.WAIT:
        return _refuse(intent, ctx, ReasonCode.INVALID_INTENT, f"action {intent.action!r}")
    if intent.is_entry:
        amount = intent.amount
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            return _refuse(intent, ctx, ReasonCode.INVALID_INTENT, f"amount {amount!r}")
    return None


def no_pending_order(intent: Intent, ctx: GateContext) -> Refusal | None:
    """One order in flight at a time: the account does not yet show a pending fill."""
    if ctx.pending > 0:
        return _refuse(intent, ctx, ReasonCode.ORDER_PENDING, f"{ctx.pending} order(s) in flight")
    return None


# --- trading state ---------------------------------------------------------------------------
def trading_state(intent: Intent, ctx: GateContext) -> Refusal | None:
    """ACTIVE: all; REDUCING: exits; HALTED: nothing while the feed is stale, exits only
    while paused by the operator or halted for venue integrity; KILLED: the flattening
    sell only."""
    state = ctx.state
    current = state.trading_state
    if current is TradingState.ACTIVE:
        return None
    if current is TradingState.HALTED:
        if state.feed_stale:
            why = ", ".join(n for n, on in (("feed stale", True),
                                            ("operator pause", state.operator_paused),
                                            ("venue integrity", state.venue_halted)) if on)
            return _refuse(intent, ctx, ReasonCode.STATE_HALTED, why)
        # an operator pause or a venue-integrity halt blocks new risk, never the way out:
        # a position left to the rug is the costliest refusal
        if intent.is_entry:
            why = ", ".join(n for n, on in (("operator pause", state.operator_paused),
                                            ("venue integrity", state.venue_halted)) if on)
            return _refuse(intent, ctx, ReasonCode.STATE_HALTED, f"{why}: exits only")
        return None
    if current is TradingState.REDUCING:
        if intent.is_entry:
            return _refuse(intent, ctx, ReasonCode.STATE_REDUCING, "exits only")
        return None
    if intent.action is Action.SELL and intent.percentage == 100:
        return None
    return _refuse(intent, ctx, ReasonCode.STATE_KILLED, "only the 100 % flattening sell")


# --- venue rules ----------------------------------------------------------------------------
def game_known(intent: Intent, ctx: GateContext) -> Refusal | None:
    """A game id and a known phase."""
    if ctx.view.game_id is None:
        return _refuse(intent, ctx, ReasonCode.NO_GAME, "no game id yet")
    if ctx.view.phase is Phase.UNKNOWN:
        return _refuse(intent, ctx, ReasonCode.PHASE_UNKNOWN, "phase unknown")
    return None


def _after_rug(ctx: GateContext) -> bool:
    view = ctx.view
    return view.phase is Phase.RUGGED or (view.phase is Phase.ACTIVE and view.rug_tick is not None)


def phase_open(intent: Intent, ctx: GateContext) -> Refusal | None:
    """Entries in presale or the live game; sells only in the live game."""
    phase = ctx.view.phase
    if intent.action is Action.SELL:
        if phase is not Phase.ACTIVE or _after_rug(ctx):
            return _refuse(intent, ctx, ReasonCode.SELL_OUTSIDE_ACTIVE, f"phase {phase}")
        return None
    if _after_rug(ctx):
        return _refuse(intent, ctx, ReasonCode.ENTRY_AFTER_RUG, f"rugged at {ctx.view.rug_tick}")
    if phase is Phase.COOLDOWN:
        return _refuse(intent, ctx, ReasonCode.SETTLEMENT_COOLDOWN,
                       f"cooldown {ctx.view.cooldown_ms} ms")
    return None


def price_sane(intent: Intent, ctx: GateContext) -> Refusal | None:
    """The view's price is finite (and > 0 for buys in the live game)."""
    price = ctx.view.price
    if not math.isfinite(price) or price < 0:
        return _refuse(intent, ctx, ReasonCode.BAD_PRICE, f"price {price!r}")
    if intent.action is Action.BUY and ctx.view.phase is Phase.ACTIVE and price <= 0:
        return _refuse(intent, ctx, ReasonCode.BAD_PRICE, f"price {price!r}")
    return None


def stake_fundable(intent: Intent, ctx: GateContext) -> Refusal | None:
    """Entries: at least the venue's minimum bet, and no more than the balance."""
    if not intent.is_entry:
        return None
    if intent.amount < MIN_BET_LAMPORTS:
        return _refuse(intent, ctx, ReasonCode.BELOW_MIN_BET,
                       f"{intent.amount} < {MIN_BET_LAMPORTS} lamports")
    if intent.amount > ctx.account.balance:
        return _refuse(intent, ctx, ReasonCode.INSUFFICIENT_BALANCE,
                       f"{intent.amount} > balance {ctx.account.balance}")
    return None


def sell_possible(intent: Intent, ctx: GateContext) -> Refusal | None:
    """Sells: a UI percentage, and a position that the percentage does not round to 0."""
    if intent.action is not Action.SELL:
        return None
    if intent.percentage not in SELL_PERCENTAGES:
        return _refuse(intent, ctx, ReasonCode.BAD_SELL_PERCENTAGE,
                       f"{intent.percentage} not in {SELL_PERCENTAGES}")
    qty = ctx.account.qty
    if qty <= 0 or qty * intent.percentage // 100 <= 0:
        return _refuse(intent, ctx, ReasonCode.NO_POSITION, f"position {qty}")
    return None


def sidebet_free(intent: Intent, ctx: GateContext) -> Refusal | None:
    """Sidebets: one at a time (``accounting.can_place_sidebet``)."""
    if intent.action is not Action.SIDEBET:
        return None
    tick = sidebet_tick(ctx)
    if not can_place_sidebet(ctx.account, tick):
        return _refuse(intent, ctx, ReasonCode.SIDEBET_OPEN,
                       f"open until tick {ctx.account.sidebet.end_tick}")
    return None


# --- configured limits (entries only) -------------------------------------------------------
def entry_window(intent: Intent, ctx: GateContext) -> Refusal | None:
    """Entries only in ``entry_phases`` and, live, within the configured tick range."""
    if not intent.is_entry:
        return None
    lim, view = ctx.limits, ctx.view
    if view.phase not in lim.entry_phases:
        return _refuse(intent, ctx, ReasonCode.ENTRY_PHASE, f"phase {view.phase}")
    if view.phase is Phase.ACTIVE and not lim.entry_min_tick <= view.tick <= lim.entry_max_tick:
        return _refuse(intent, ctx, ReasonCode.ENTRY_TICK_RANGE,
                       f"tick {view.tick} outside [{lim.entry_min_tick}, {lim.entry_max_tick}]")
    # an entry decided in the last moments of presale reaches the venue after the game
    # started and fills at the live price, not at 1.00x: refuse it instead
    if view.phase is Phase.PRESALE and view.cooldown_ms < lim.presale_cutoff_ms:
        return _refuse(intent, ctx, ReasonCode.PRESALE_CLOSING,
                       f"{view.cooldown_ms} ms of presale left < {lim.presale_cutoff_ms} ms")
    return None


def bet_size(intent: Intent, ctx: GateContext) -> Refusal | None:
    """One buy or sidebet stake at most ``max_bet``."""
    if intent.is_entry and intent.amount > ctx.limits.max_bet:
        return _refuse(intent, ctx, ReasonCode.MAX_BET,
                       f"{intent.amount} > {ctx.limits.max_bet} lamports")
    return None


def position_size(intent: Intent, ctx: GateContext) -> Refusal | None:
    """Buys: the open position's cost after the buy at most ``max_position``."""
    if intent.action is not Action.BUY:
        return None
    after = ctx.account.cost + intent.amount
    if after > ctx.limits.max_position:
        return _refuse(intent, ctx, ReasonCode.MAX_POSITION,
                       f"position cost {after} > {ctx.limits.max_position} lamports")
    return None


def exposure(intent: Intent, ctx: GateContext) -> Refusal | None:
    """Open position cost + open sidebet stake after the entry at most ``max_exposure``."""
    if not intent.is_entry:
        return None
    acct = ctx.account
    if intent.action is Action.BUY:
        after = acct.cost + intent.amount + open_stake(acct, sidebet_tick(ctx))
    else:  # a new sidebet replaces an expired one (sidebet_free checked it)
        after = acct.cost + intent.amount
    if after > ctx.limits.max_exposure:
        return _refuse(intent, ctx, ReasonCode.MAX_EXPOSURE,
                       f"exposure {after} > {ctx.limits.max_exposure} lamports")
    return None


def balance_reserve(intent: Intent, ctx: GateContext) -> Refusal | None:
    """The balance after the entry stays at or above ``min_balance_reserve``."""
    if not intent.is_entry:
        return None
    after = ctx.account.balance - intent.amount
    if after < ctx.limits.min_balance_reserve:
        return _refuse(intent, ctx, ReasonCode.BALANCE_RESERVE,
                       f"balance after {after} < reserve {ctx.limits.min_balance_reserve}")
    return None


def sidebets_per_game(intent: Intent, ctx: GateContext) -> Refusal | None:
    """At most ``max_sidebets_per_game`` sidebets approved in this game."""
    if intent.action is not Action.SIDEBET:
        return None
    placed = ctx.counters.for_game(ctx.view.game_id).sidebets
    if placed >= ctx.limits.max_sidebets_per_game:
        return _refuse(intent, ctx, ReasonCode.MAX_SIDEBETS_PER_GAME,
                       f"{placed} of {ctx.limits.max_sidebets_per_game} this game")
    return None


def loss_limits(intent: Intent, ctx: GateContext) -> Refusal | None:
    """No entries once a loss limit is breached, nor when the entry's worst case would."""
    if not intent.is_entry:
        return None
    fig, lim = ctx.figures, ctx.limits
    if fig.daily_loss > lim.max_daily_loss:
        return _refuse(intent, ctx, ReasonCode.DAILY_LOSS_LIMIT,
                       f"daily loss {fig.daily_loss} > {lim.max_daily_loss}")
    if fig.drawdown > lim.max_drawdown:
        return _refuse(intent, ctx, ReasonCode.DRAWDOWN_LIMIT,
                       f"drawdown {fig.drawdown} > {lim.max_drawdown}")
    worst = ctx.account.balance - intent.amount  # equity if everything open is lost
    if fig.day_start_equity - worst > lim.max_daily_loss:
        loss = fig.day_start_equity - worst
        return _refuse(intent, ctx, ReasonCode.LOSS_BUDGET,
                       f"worst-case daily loss {loss} > {lim.max_daily_loss}")
    if fig.peak_equity - worst > lim.max_drawdown:
        return _refuse(intent, ctx, ReasonCode.LOSS_BUDGET,
                       f"worst-case drawdown {fig.peak_equity - worst} > {lim.max_drawdown}")
    return None


# --- rate limit -----------------------------------------------------------------------------
def order_rate(intent: Intent, ctx: GateContext) -> Refusal | None:
    """At most ``max_orders_per_minute`` in any 60 s window; the flattening sell is exempt."""
    if is_flatten_sell(intent, ctx):
        return None
    if not ctx.orders.allows(ctx.ts_ms, ctx.limits.max_orders_per_minute):
        return _refuse(intent, ctx, ReasonCode.RATE_LIMIT,
                       f"{ctx.orders.count(ctx.ts_ms)} orders in the last minute")
    return None


RULES: tuple[Rule, ...] = (
    valid_intent,
    no_pending_order,
    trading_state,
    game_known,
    phase_open,
    price_sane,
    stake_fundable,
    sell_possible,
    sidebet_free,
    entry_window,
    bet_size,
    position_size,
    exposure,
    balance_reserve,
    sidebets_per_game,
    loss_limits,
    order_rate,
)
"""Every rule, in the order the gate runs them (first refusal wins)."""
