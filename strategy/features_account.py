"""The account block of the feature vector: position, budgets and limits as fractions.

Invariant to the account's size: every amount is a fraction of a configured limit, and
the limits enter as ratios. Orders in flight count as position (``pending_buy``) or
sidebet (``pending_sidebet``):

- ``position_cost_frac = (cost + pending_buy) / max_position``;
  ``entry_price_ratio = avg_entry / x_t``; ``upnl_rel = upnl / cost``; sidebet ticks
  left / 40;
- ``exposure_frac`` = (position cost + pending buys + open and pending sidebet stakes) /
  ``max_exposure``; ``cash_frac`` = (cash not yet committed − reserve) / ``max_position``;
- ``loss_budget_frac`` = what is left of the daily-loss and drawdown budgets if
  everything open were lost (the gate's worst case), as a fraction of each limit;
- ``buy_room_frac`` = the largest buy every limit still allows / ``max_position``;
  ``rate_budget_frac`` / ``sidebet_budget_frac`` = orders this minute / sidebets this
  game still allowed, as fractions; ``entry_open`` = the configured entry window
  (phases, tick range, presale cut-off) is open now;
- ``bet_cap_frac = max_bet / max_position``, ``exposure_cap_ratio = max_exposure /
  max_position``.

Fractions are clipped to [0, 1] (costs and exposure to [0, 4]); a fraction of a limit
that is not positive is 0. The clipping is written out inline (``_frac`` defines it):
this block runs on every decision.
"""

# ruff: noqa: FURB136 -- min()/max() calls cost ~0.1 µs each; the clipping is inline

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rugsd.daemon.events import Phase
from rugsd.daemon.fastinit import fast_init
from rugsd.daemon.game.accounting import Account
from rugsd.daemon.game.rules import SIDEBET_WINDOW
from rugsd.daemon.state.view import GameView
from rugsd.strategy.feature_schema import PRICE_CEIL, PRICE_FLOOR, RATIO_CEIL

if TYPE_CHECKING:  # risk imports strategy.intents: a type-only import keeps them acyclic
    from rugsd.risk.context import RiskLimits as Limits


@fast_init
@dataclass(frozen=True, slots=True)
class Commitments:
    """What the account does not show yet, and the budgets already used (lamports).

    Built by the decision core for every decision (``DecisionCore.commitments``):
    ``pending_*`` are orders sent but not yet filled or refused (in browser mode until
    the venue confirms them), ``orders_last_minute`` counts the rate window,
    ``sidebets_this_game`` the approved sidebets, ``day_start_equity`` / ``peak_equity``
    the loss limits' references (None: a fresh session, i.e. the balance).
    """

    pending_buy: int = 0
    pending_sidebet: int = 0
    pending_orders: int = 0
    orders_last_minute: int = 0
    sidebets_this_game: int = 0
    day_start_equity: int | None = None
    peak_equity: int | None = None


NO_COMMITMENTS = Commitments()
_default_limits: Limits | None = None


def default_limits() -> Limits:
    """The limits of the default ``[risk]`` configuration (for calls outside a core)."""
    global _default_limits
    if _default_limits is None:
        # imported here: risk imports strategy.intents; keep the packages acyclic at load
        from rugsd.daemon.config import RiskConfig
        from rugsd.risk.context import RiskLimits

        _default_limits = RiskLimits.from_config(RiskConfig())
    return _default_limits


def _frac(num: float, den: float, ceil: float = 1.0) -> float:
    """``num / den`` clipped to [0, ceil] (0 when ``den`` is not positive)."""
    if den <= 0:
        return 0.0
    return max(0.0, min(num / den, ceil))


def entry_open(view: GameView, limits: Limits) -> bool:
    """The configured entry window is open: phase, live tick range, presale cut-off."""
    phase = view.phase
    if phase is Phase.PRESALE:
        return Phase.PRESALE in limits.entry_phases and view.cooldown_ms >= limits.presale_cutoff_ms
    if phase is Phase.ACTIVE:
        return (Phase.ACTIVE in limits.entry_phases and view.rug_tick is None
                and limits.entry_min_tick <= view.tick <= limits.entry_max_tick)
    return False


def account_features(
    view: GameView, account: Account, limits: Limits, c: Commitments = NO_COMMITMENTS
) -> list[float]:
    """The account block (see the module docstring): position, budgets and limits.

    Each ``q = a / b; v = ceil if ceil < q else q; v if v > 0.0 else 0.0`` below is
    ``_frac(a, b, ceil)`` (the same operations, NaN and -0.0 included) without a call.
    """
    p = view.price
    x = (p if p < PRICE_CEIL else PRICE_CEIL) if p > PRICE_FLOOR else PRICE_FLOOR
    tick = view.tick
    qty = account.qty
    cost = account.cost
    max_pos = limits.max_position
    pending_buy = c.pending_buy
    pending_side = c.pending_sidebet
    committed = cost + pending_buy
    if max_pos > 0:
        q = committed / max_pos
        v = RATIO_CEIL if RATIO_CEIL < q else q
        cost_frac = v if v > 0.0 else 0.0
    else:
        cost_frac = 0.0
    if qty > 0:
        entry = account.entry_tick
        pos = [
            1.0,
            cost_frac,
            (cost / qty) / x,
            (qty * x - cost) / cost if cost > 0 else 0.0,
            (tick - entry) / 100 if entry is not None and tick > entry else 0.0,
        ]
    elif committed > 0:  # a buy in flight is a position for the policy
        pos = [1.0, cost_frac, 0.0, 0.0, 0.0]
    else:
        pos = [0.0, 0.0, 0.0, 0.0, 0.0]
    bet = account.sidebet
    stake = 0
    if bet is not None and tick < bet.end_tick:
        stake = bet.stake
        left = (bet.end_tick - tick) / SIDEBET_WINDOW
        pos += [1.0, left if left < 1.0 else 1.0]  # = min(left, 1.0)
    elif pending_side > 0:
        pos += [1.0, 1.0]
    else:
        pos += [0.0, 0.0]
    exposure = committed + stake + pending_side
    free = account.balance - pending_buy - pending_side  # cash not yet committed
    cash = free - limits.min_balance_reserve
    day_start = free if c.day_start_equity is None else c.day_start_equity
    peak = free if c.peak_equity is None else c.peak_equity
    max_exp = limits.max_exposure
    max_loss = limits.max_daily_loss
    max_dd = limits.max_drawdown
    max_bet = limits.max_bet
    day_left = max_loss - (day_start - free)
    dd_left = max_dd - (peak - free)
    # the gate's worst case: everything open is lost, equity = the free cash
    room = min(max_pos - committed, max_exp - exposure, cash, min(day_left, dd_left), max_bet)
    if max_exp > 0:
        q = exposure / max_exp
        v = RATIO_CEIL if RATIO_CEIL < q else q
        exposure_frac = v if v > 0.0 else 0.0
    else:
        exposure_frac = 0.0
    if max_pos > 0:
        q = cash / max_pos
        v = 1.0 if 1.0 < q else q
        cash_frac = v if v > 0.0 else 0.0
        q = room / max_pos
        v = 1.0 if 1.0 < q else q
        room_frac = v if v > 0.0 else 0.0
        q = max_bet / max_pos
        v = RATIO_CEIL if RATIO_CEIL < q else q
        bet_cap = v if v > 0.0 else 0.0
        q = max_exp / max_pos
        v = 2 * RATIO_CEIL if 2 * RATIO_CEIL < q else q
        exp_cap = v if v > 0.0 else 0.0
    else:
        cash_frac = room_frac = bet_cap = exp_cap = 0.0
    pos += [
        exposure_frac,
        cash_frac,
        min(_frac(day_left, max_loss), _frac(dd_left, max_dd)),
        room_frac,
        1.0 if c.pending_orders > 0 else 0.0,
        _frac(limits.max_orders_per_minute - c.orders_last_minute, limits.max_orders_per_minute),
        _frac(limits.max_sidebets_per_game - c.sidebets_this_game, limits.max_sidebets_per_game),
        1.0 if entry_open(view, limits) else 0.0,
        bet_cap,
        exp_cap,
    ]
    return pos
