"""What the game-state machine reports when it applies an update: transitions.

Every ``GameStateMachine.apply`` returns a tuple of these frozen values, in the order the
things happened. Consumers (strategy loop, journal, dataset writer, TUI) react to them;
the machine itself stays pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rugsd.daemon.events import FinishedGame, Phase
from rugsd.daemon.fastinit import fast_init
from rugsd.daemon.state.view import GameSummary


class TickSource(StrEnum):
    """Where the price of a tick came from."""

    LIVE = "live"  # the update's own tick/price
    PARTIAL = "partial"  # filled from ``partialPrices`` after a gap
    BACKFILL = "backfill"  # filled from a full ``prices`` array
    CARRIED = "carried"  # unknown: the previous price carried forward


class AnomalyKind(StrEnum):
    """Reason codes for everything unusual the machine saw (each is also counted)."""

    DUPLICATE_TICK = "duplicate_tick"  # same tick again (ignored)
    OUT_OF_ORDER = "out_of_order"  # older tick / earlier phase / timer going up (ignored)
    GAP = "gap"  # ticks skipped; filled from partialPrices or carried forward
    BACKFILL = "backfill"  # unknown history replaced by a full ``prices`` array
    MID_GAME_JOIN = "mid_game_join"  # first sight of a game was mid-game
    STALE_GAME = "stale_game"  # event of a game that already ended (ignored)
    FEED_RESET = "feed_reset"  # an ended game kept coming: the source restarted, follow it
    MISSED_RUG = "missed_rug"  # a new gameId arrived while the old game was active
    ABANDONED_GAME = "abandoned_game"  # a new gameId before the old one ever started
    INVALID_UPDATE = "invalid_update"  # active without tick/price, bad price, tick too big
    HISTORY_MISMATCH = "history_mismatch"  # gameHistory disagrees with what we observed


@dataclass(frozen=True, slots=True)
class NewGame:
    """A game id was seen for the first time (the machine now tracks it)."""

    game_id: str


@dataclass(frozen=True, slots=True)
class PhaseChanged:
    """The phase of the tracked game changed (``old`` is UNKNOWN on the first event)."""

    old: Phase
    new: Phase


@fast_init
@dataclass(frozen=True, slots=True)
class TickAdvanced:
    """One new tick of the active game, including ticks filled after a gap.

    Not emitted for the rug tick (see ``Rugged``) nor for the history before a mid-game
    join (that history is in ``GameView.prices``; only the joined tick is reported).
    """

    tick: int
    price: float
    source: TickSource = TickSource.LIVE


@dataclass(frozen=True, slots=True)
class Rugged:
    """The rug event of the tracked game: ``prices[rug_tick] == rug_price``."""

    game_id: str
    rug_tick: int
    rug_price: float


@dataclass(frozen=True, slots=True)
class GameFinished:
    """A game ended (at its rug, or when a new gameId replaced an active game).

    ``prices`` is the observed price path including the rug price when it was seen;
    ``complete`` is true when every tick from 0 was observed (nothing carried forward,
    no mid-game join) and the rug was seen.
    """

    summary: GameSummary
    prices: tuple[float, ...]
    complete: bool
    rug_seen: bool


@dataclass(frozen=True, slots=True)
class HistoryRevealed:
    """A ``gameHistory`` entry seen for the first time (seed revealed for that game)."""

    game: FinishedGame


@dataclass(frozen=True, slots=True)
class Anomaly:
    """Something unusual in the feed; ``detail`` is a short human-readable note."""

    kind: AnomalyKind
    detail: str = ""


Transition = (
    NewGame | PhaseChanged | TickAdvanced | Rugged | GameFinished | HistoryRevealed | Anomaly
)
