"""The one feature builder: live, replay, backtest and the gymnasium env all call it.

Schema
    ``FEATURE_NAMES`` (ordered) + ``SCHEMA_VERSION``; ``schema_hash()`` fingerprints both
    and is written into every model bundle, so a model is never fed a vector it was not
    trained on. Change a feature → bump ``SCHEMA_VERSION`` (the hash changes anyway).

Inputs
    A ``GameView`` (only ``prices[:tick]`` plus the current ``view.price`` are read, never a
    later tick), an ``Account``, the risk limits the policy trades under (``Limits``:
    ``rugsd.risk.context.RiskLimits`` or anything with its fields) and the
    ``Commitments`` the account does not show yet (orders in flight, budgets used this
    minute / game / day); nothing else. The vector has three blocks: game
    (``GAME_SLICE``), account (``ACCOUNT_SLICE``) and session (``SESSION_SLICE``).

Clock
    Game time only: ticks and the ``cooldownTimer``. No feature reads a receive time, so a
    recording, the simulator at any ``--speed`` and the live feed give the same vector
    for the same game state (schema 1 had ``time_since_start_s`` from receive times).

Definitions (``x_t`` = current price, ``x_{t-k}`` = ``prices[t-k]``, clamped to tick 0)
    - ``ret_k = log(x_t / x_{t-k})``; 0 at tick 0.
    - ``vol_w`` = population std of the last ``min(t, w)`` one-tick log returns
      ``log(x_i / x_{i-1})``, two-pass, summed oldest → newest; 0 when there are none.
    - ``drawdown = 1 - x_t / peak``; ``peak = max(view.peak, x_t)``.
    - account (invariant to the account's size: every amount is a fraction of a
      configured limit, and the limits enter as ratios): orders in flight count as
      position (``pending_buy``) or sidebet (``pending_sidebet``);
      ``position_cost_frac = (cost + pending_buy) / max_position``;
      ``entry_price_ratio = avg_entry / x_t``; ``upnl_rel = upnl / cost``; sidebet ticks
      left / 40; ``exposure_frac`` = (position cost + pending buys + open and pending
      sidebet stakes) / ``max_exposure``; ``cash_frac`` = (cash not yet committed −
      reserve) / ``max_position``; ``loss_budget_frac`` = what is left of the daily-loss
      and drawdown budgets if everything open were lost (the gate's worst case), as a
      fraction of each limit; ``buy_room_frac`` = the largest buy every limit still
      allows / ``max_position``; ``rate_budget_frac`` / ``sidebet_budget_frac`` = orders
      this minute / sidebets this game still allowed, as fractions; ``entry_open`` = the
      configured entry window (phases, tick range, presale cut-off) is open now;
      ``bet_cap_frac = max_bet / max_position``, ``exposure_cap_ratio = max_exposure /
      max_position``. Fractions are clipped to [0, 1] (costs and exposure to [0, 4]).
    - session: the last ``RECENT_GAMES`` finished games of ``view.recent`` and the room
      statistics (counts / 100); zeros when absent (``stats_present`` tells which).

Finiteness
    Every float input is sanitised on the way in: prices (and peak, average multiplier)
    that are NaN or ≤ ``PRICE_FLOOR`` become ``PRICE_FLOOR``, +inf or > ``PRICE_CEIL``
    become ``PRICE_CEIL``; divisions by zero are guarded (the feature is 0). So every
    feature is finite by construction for any int account below ~1e300 lamports.

Exactness
    ``rugsd.strategy.features_batch.build_batch`` (numpy, a whole game at once) performs the
    same IEEE operations in the same order as this per-tick builder, so both give
    bit-identical float32 vectors.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from rugsd.daemon.events import Phase, SessionStats
from rugsd.daemon.game.accounting import Account
from rugsd.daemon.game.rules import COOLDOWN_MS, SIDEBET_WINDOW
from rugsd.daemon.state.prices import PriceHistory
from rugsd.daemon.state.view import GameSummary, GameView

if TYPE_CHECKING:  # risk imports strategy.intents: a type-only import keeps them acyclic
    from rugsd.risk.context import RiskLimits as Limits

SCHEMA_VERSION = 2

RETURN_WINDOWS: tuple[int, ...] = (1, 5, 10, 20, 40)
VOL_WINDOWS: tuple[int, ...] = (10, 40)
MAX_WINDOW = 40  # longest look-back of any game feature
RECENT_GAMES = 10  # session features use at most the last 10 finished games
PRICE_FLOOR = 1e-9
PRICE_CEIL = 1e9
RATIO_CEIL = 4.0  # position cost and exposure fractions can exceed 1 (a reconciled account)

_PHASES: tuple[Phase, ...] = (
    Phase.UNKNOWN,
    Phase.COOLDOWN,
    Phase.PRESALE,
    Phase.ACTIVE,
    Phase.RUGGED,
)

GAME_FEATURES: tuple[str, ...] = (
    "tick_per_100",
    "price",
    "log_price",
    *(f"ret_{k}" for k in RETURN_WINDOWS),
    *(f"vol_{w}" for w in VOL_WINDOWS),
    "drawdown",
    "log_peak",
    *(f"phase_{p.value}" for p in _PHASES),
    "cooldown_frac",
)
ACCOUNT_FEATURES: tuple[str, ...] = (
    "has_position",
    "position_cost_frac",
    "entry_price_ratio",
    "upnl_rel",
    "ticks_in_position_per_100",
    "sidebet_active",
    "sidebet_ticks_left_frac",
    "exposure_frac",
    "cash_frac",
    "loss_budget_frac",
    "buy_room_frac",
    "order_pending",
    "rate_budget_frac",
    "sidebet_budget_frac",
    "entry_open",
    "bet_cap_frac",
    "exposure_cap_ratio",
)
SESSION_FEATURES: tuple[str, ...] = (
    "recent_n_frac",
    "recent_len_mean_per_100",
    "recent_len_median_per_100",
    "recent_log_peak_mean",
    "recent_frac_2x",
    "recent_frac_10x",
    "stats_present",
    "stats_avg_mult_log",
    "stats_count2x_per_100",
    "stats_count10x_per_100",
    "stats_count50x_per_100",
    "stats_count100x_per_100",
)
FEATURE_NAMES: tuple[str, ...] = GAME_FEATURES + ACCOUNT_FEATURES + SESSION_FEATURES
N_FEATURES = len(FEATURE_NAMES)
FEATURE_INDEX: dict[str, int] = {name: i for i, name in enumerate(FEATURE_NAMES)}
GAME_SLICE = slice(0, len(GAME_FEATURES))
ACCOUNT_SLICE = slice(GAME_SLICE.stop, GAME_SLICE.stop + len(ACCOUNT_FEATURES))
SESSION_SLICE = slice(ACCOUNT_SLICE.stop, N_FEATURES)
# the feed's room statistics (stats_present .. stats_count100x_per_100): recordings and
# the training episodes have none, so a bundle trained without them masks them to 0
ROOM_STATS_SLICE = slice(FEATURE_INDEX["stats_present"], N_FEATURES)

_ONEHOT: dict[Phase, tuple[float, ...]] = {
    p: tuple(1.0 if q is p else 0.0 for q in _PHASES) for p in _PHASES
}
_ACTIVE_ONEHOT = _ONEHOT[Phase.ACTIVE]
_log = math.log
_ZERO_RETS = [0.0] * len(RETURN_WINDOWS)
_ZERO_VOLS = [0.0] * len(VOL_WINDOWS)


def schema_hash(names: Sequence[str] = FEATURE_NAMES, version: int = SCHEMA_VERSION) -> str:
    """Short hex fingerprint (sha256, 16 hex digits) of the schema version and names."""
    text = f"{version}\n" + "\n".join(names)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _clean(p: float) -> float:
    """Sanitise a price-like float into [PRICE_FLOOR, PRICE_CEIL] (NaN → floor)."""
    return min(p, PRICE_CEIL) if p > PRICE_FLOOR else PRICE_FLOOR


def _vol(r: list[float]) -> float:
    """Population std of ``r``: two passes, plain sequential sums oldest → newest.

    Explicit loops, not ``sum`` (compensated since Python 3.12): ``game_features_batch``
    reproduces exactly this order of additions.
    """
    n = len(r)
    if n == 0:
        return 0.0
    s = 0.0
    for v in r:
        s += v
    mean = s / n
    s2 = 0.0
    for v in r:
        d = v - mean
        s2 += d * d
    return math.sqrt(s2 / n)


def game_features(view: GameView, returns: ReturnCache | None = None) -> list[float]:
    """The game block for ``view`` (reads ``prices[:tick]`` and ``view.price`` only).

    ``returns`` (optional) caches the per-tick log returns of the state machine's price
    list between calls; the values are the same floats the direct computation gives.
    """
    tick = view.tick
    t = max(0, tick)
    x = _clean(view.price)
    m = min(t, len(view.prices))  # past prices usable (fewer when ticks were missed)
    if m:
        r = returns.lookup(view.prices, m, x) if returns is not None else None
        # inline _clean: this comprehension runs on every tick
        chain = [
            (p if p < PRICE_CEIL else PRICE_CEIL) if p > PRICE_FLOOR else PRICE_FLOOR  # noqa: FURB136 -- min() call costs ~1.5 µs/tick here
            for p in view.prices[max(m - MAX_WINDOW, 0) : m]
        ] if r is None else None
        if chain is not None:
            n_past = len(chain)
            rets = [_log(x / chain[n_past - k if n_past >= k else 0]) for k in RETURN_WINDOWS]
            chain.append(x)
            r = [_log(b / a) for a, b in pairwise(chain)]
        else:
            data = view.prices
            n_past = len(r)
            rets = [
                _log(x / _clean(data[m - k if n_past >= k else m - n_past]))
                for k in RETURN_WINDOWS
            ]
        vols = [_vol(r[-w:]) for w in VOL_WINDOWS]
    else:
        rets = _ZERO_RETS
        vols = _ZERO_VOLS
    peak = _clean(view.peak)
    peak = max(peak, x)
    cooldown = max(0.0, min(view.cooldown_ms / COOLDOWN_MS, 1.0))
    return [
        t / 100,
        x,
        _log(x),
        *rets,
        *vols,
        1.0 - x / peak,
        _log(peak),
        *_ONEHOT.get(view.phase, _ONEHOT[Phase.UNKNOWN]),
        cooldown,
    ]


class ReturnCache:
    """Log returns of the state machine's price list, computed once per tick.

    The machine only appends to the list a ``PriceHistory`` shares and copies it before
    correcting an old slot, so for one list object ``log(p[i] / p[i-1])`` never changes:
    it is computed the first time it is needed and reused for the next 40 ticks. Any
    other sequence type, or a current price that differs from the list's slot, falls
    back to the direct computation (same arithmetic, same floats).
    """

    __slots__ = ("_data", "_r")

    def __init__(self) -> None:
        self._data: object = None
        self._r: list[float] = [0.0]

    def lookup(self, prices: Sequence[float], m: int, x: float) -> list[float] | None:
        """The returns of pairs ``(i-1, i)`` for the last ``MAX_WINDOW`` ticks up to ``m``."""
        if type(prices) is not PriceHistory:
            return None
        data = prices._data
        if len(data) <= m or _clean(data[m]) != x:
            return None
        r = self._r
        if data is not self._data:
            self._data = data
            r = self._r = [0.0]
        n = len(r)
        if n <= m:
            prev = _clean(data[n - 1])
            for i in range(n, m + 1):
                cur = _clean(data[i])
                r.append(_log(cur / prev))
                prev = cur
        return r[max(m - MAX_WINDOW, 0) + 1 : m + 1]


@dataclass(frozen=True, slots=True)
class Commitments:
    """What the account does not show yet, and the budgets already used (lamports).

    Built by the decision core for every decision (``DecisionCore.commitments``):
    ``pending_*`` are orders sent but not yet filled or refused (in browser mode until
    the venue confirms them), ``orders_last_minute`` counts the rate window,
    ``sidebets_this_game`` the approved sidebets, ``day_start_equity`` / ``peak_equity``
    the loss limits' reference points (None: a fresh session, i.e. the balance).
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
    """The account block (see the module docstring): position, budgets and limits."""
    x = _clean(view.price)
    tick = view.tick
    qty = account.qty
    cost = account.cost
    max_pos = limits.max_position
    committed = cost + c.pending_buy
    if qty > 0:
        upnl = qty * x - cost
        entry = account.entry_tick
        pos = [
            1.0,
            _frac(committed, max_pos, RATIO_CEIL),
            (cost / qty) / x,
            upnl / cost if cost > 0 else 0.0,
            (tick - entry) / 100 if entry is not None and tick > entry else 0.0,
        ]
    elif committed > 0:  # a buy in flight is a position for the policy
        pos = [1.0, _frac(committed, max_pos, RATIO_CEIL), 0.0, 0.0, 0.0]
    else:
        pos = [0.0, 0.0, 0.0, 0.0, 0.0]
    bet = account.sidebet
    stake = 0
    if bet is not None and tick < bet.end_tick:
        stake = bet.stake
        pos += [1.0, min((bet.end_tick - tick) / SIDEBET_WINDOW, 1.0)]
    elif c.pending_sidebet > 0:
        pos += [1.0, 1.0]
    else:
        pos += [0.0, 0.0]
    exposure = committed + stake + c.pending_sidebet
    free = account.balance - c.pending_buy - c.pending_sidebet  # cash not yet committed
    cash = free - limits.min_balance_reserve
    day_start = free if c.day_start_equity is None else c.day_start_equity
    peak = free if c.peak_equity is None else c.peak_equity
    # the gate's worst case: everything open is lost, equity = the free cash
    loss_room = min(limits.max_daily_loss - (day_start - free), limits.max_drawdown - (peak - free))
    room = min(max_pos - committed, limits.max_exposure - exposure, cash, loss_room,
               limits.max_bet)
    max_sb = limits.max_sidebets_per_game
    pos += [
        _frac(exposure, limits.max_exposure, RATIO_CEIL),
        _frac(cash, max_pos),
        min(_frac(limits.max_daily_loss - (day_start - free), limits.max_daily_loss),
            _frac(limits.max_drawdown - (peak - free), limits.max_drawdown)),
        _frac(room, max_pos),
        1.0 if c.pending_orders > 0 else 0.0,
        _frac(limits.max_orders_per_minute - c.orders_last_minute, limits.max_orders_per_minute),
        _frac(max_sb - c.sidebets_this_game, max_sb),
        1.0 if entry_open(view, limits) else 0.0,
        _frac(limits.max_bet, max_pos, RATIO_CEIL),
        _frac(limits.max_exposure, max_pos, 2 * RATIO_CEIL),
    ]
    return pos


def _finite_or(value: float | None, default: float) -> float:
    return value if value is not None and math.isfinite(value) else default


def session_features(recent: Sequence[GameSummary], stats: SessionStats | None) -> list[float]:
    """The session block: last ``RECENT_GAMES`` finished games and the room statistics."""
    games = list(recent)[-RECENT_GAMES:]
    n = len(games)
    if n:
        lens = sorted(max(g.rug_tick, 0) for g in games)
        mid = n // 2
        median = lens[mid] if n % 2 else (lens[mid - 1] + lens[mid]) / 2
        peaks = [_clean(g.peak) for g in games]
        block = [
            n / RECENT_GAMES,
            sum(lens) / n / 100,
            median / 100,
            math.fsum(_log(p) for p in peaks) / n,
            sum(1 for p in peaks if p >= 2.0) / n,
            sum(1 for p in peaks if p >= 10.0) / n,
        ]
    else:
        block = [0.0] * 6
    if stats is None:
        return block + [0.0] * 6
    avg = stats.average_multiplier
    counts = (stats.count2x, stats.count10x, stats.count50x, stats.count100x)
    return block + [
        1.0,
        _log(_clean(_finite_or(avg, 1.0))),
        *(max(0, c) / 100 if c is not None else 0.0 for c in counts),
    ]


def build_features(
    view: GameView,
    account: Account,
    out: np.ndarray | None = None,
    *,
    limits: Limits | None = None,
    commitments: Commitments = NO_COMMITMENTS,
) -> np.ndarray:
    """The full float32 feature vector for one decision (a new array unless ``out``)."""
    values = (
        game_features(view)
        + account_features(view, account, limits or default_limits(), commitments)
        + session_features(view.recent, view.stats)
    )
    if out is None:
        return np.array(values, dtype=np.float32)
    out[:] = values
    return out


class FeatureBuilder:
    """Per-tick builder for the hot path: a preallocated buffer and a session cache.

    ``build`` returns the builder's buffer (overwritten by the next call; copy it to keep
    it). Give it the models' input row (``Bundle.obs_row``) and the ONNX strategy reads
    the features without a copy. ``limits`` are the risk limits of the core it serves
    (the default ``[risk]`` when None). The session block is recomputed only when
    ``view.recent`` or ``view.stats`` is a different object (both are immutable, and the
    cache holds references, so identity implies equal content).
    """

    __slots__ = ("_recent", "_returns", "_session", "_stats", "buffer", "limits")

    def __init__(self, buffer: np.ndarray | None = None, limits: Limits | None = None) -> None:
        """Use ``buffer`` (float32 [N_FEATURES], e.g. ``Bundle.obs_row``) or allocate one."""
        if buffer is None:
            buffer = np.zeros(N_FEATURES, dtype=np.float32)
        elif buffer.shape != (N_FEATURES,) or buffer.dtype != np.float32:
            raise ValueError(f"feature buffer must be float32[{N_FEATURES}]")
        self.buffer = buffer
        self.limits = limits or default_limits()
        self._recent: object = None
        self._stats: object = None
        self._session: list[float] = session_features((), None)
        self._returns = ReturnCache()

    def build(
        self, view: GameView, account: Account, commitments: Commitments = NO_COMMITMENTS
    ) -> np.ndarray:
        """Features of ``view``/``account`` written into (and returned as) ``buffer``."""
        recent, stats = view.recent, view.stats
        # stats arrive as a new (equal) object with every update: compare by value
        if recent is not self._recent or stats != self._stats:
            self._session = session_features(recent, stats)
            self._recent, self._stats = recent, stats
        self.buffer[:] = (
            game_features(view, self._returns)
            + account_features(view, account, self.limits, commitments)
            + self._session
        )
        return self.buffer
