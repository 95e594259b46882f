"""The feature schema: names, order, blocks and version of the policy's input vector.

``FEATURE_NAMES`` (ordered) + ``SCHEMA_VERSION``; ``schema_hash()`` fingerprints both
and is written into every model bundle, so a model is never fed a vector it was not
trained on. Change a feature → bump ``SCHEMA_VERSION`` (the hash changes anyway).

The vector has three blocks: game (``GAME_SLICE``), account (``ACCOUNT_SLICE``) and
session (``SESSION_SLICE``). What each feature means, and how it is computed, is in
``rugsd.strategy.features`` (game and session blocks, the per-tick builder) and
``rugsd.strategy.features_account`` (the account block).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from rugsd.daemon.events import Phase

SCHEMA_VERSION = 2

RETURN_WINDOWS: tuple[int, ...] = (1, 5, 10, 20, 40)
VOL_WINDOWS: tuple[int, ...] = (10, 40)
MAX_WINDOW = 40  # longest look-back of any game feature
RECENT_GAMES = 10  # session features use at most the last 10 finished games
PRICE_FLOOR = 1e-9
PRICE_CEIL = 1e9
RATIO_CEIL = 4.0  # position cost and exposure fractions can exceed 1 (a reconciled account)

PHASES: tuple[Phase, ...] = (
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
    *(f"phase_{p.value}" for p in PHASES),
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


def schema_hash(names: Sequence[str] = FEATURE_NAMES, version: int = SCHEMA_VERSION) -> str:
    """Short hex fingerprint (sha256, 16 hex digits) of the schema version and names."""
    text = f"{version}\n" + "\n".join(names)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
