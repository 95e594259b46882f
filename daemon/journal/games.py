"""Per-game figures from the core's records, and the one rule that counts games.

``rugsd replay``, ``rugsd evaluate`` and ``rugsd report`` all count games with
``classify_game`` on the same facts (``GameFacts``): the first two collect them from the
records the core emits (``GameTally``), the report from the same records read back from
the journal and the dataset. A game is

- **complete** — the core decided in its presale, at its tick 0 and saw its rug: it was
  there for the whole game;
- **incomplete** — the core decided in it but missed part of it (joined mid-game, the
  recording or feed stopped, the rug was not seen);
- **skipped** — seen (a fill, or a finished-game record) without a single decision.

*Played* games are complete + incomplete: per-game P&L and its confidence interval are
over played games, so P&L per game × played games is the P&L total everywhere.

P&L of a game = the sum of its fills' ``realised`` (a position still open when the
stream ends has realised nothing yet); its exit is ``rugged`` when a rug sell closed a
position in it, else ``sold`` when it had sells, else none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from rugsd.daemon.journal.records import DecisionRecord, FillRecord, GameRecord, TickRecord

PRESALE = "presale"
ACTIVE = "active"
RUGGED = "rugged"


class GameClass(StrEnum):
    """How much of a game the core saw (see the module docstring)."""

    COMPLETE = "complete"
    INCOMPLETE = "incomplete"
    SKIPPED = "skipped"


def classify_game(presale_decisions: int, live_decisions: int, first_live_tick: int | None,
                  rug_seen: bool) -> GameClass:
    """The one rule (all three commands use it)."""
    if presale_decisions + live_decisions == 0:
        return GameClass.SKIPPED
    if presale_decisions > 0 and first_live_tick == 0 and rug_seen:
        return GameClass.COMPLETE
    return GameClass.INCOMPLETE


def count_games(classes: Iterable[GameClass]) -> dict[str, int]:
    """``{"complete", "incomplete", "skipped", "played"}`` counts."""
    c = Counter(classes)
    out = {k.value: c.get(k, 0) for k in GameClass}
    out["played"] = out["complete"] + out["incomplete"]
    return out


def exit_of(sells: int, rug_sells: int) -> str | None:
    """How a game's position ended: ``rugged``, ``sold`` or None (no position closed)."""
    if rug_sells:
        return "rugged"
    if sells:
        return "sold"
    return None


@dataclass(slots=True)
class GameFacts:
    """What the records say about one game."""

    game_id: str
    presale_decisions: int = 0
    live_decisions: int = 0
    first_live_tick: int | None = None
    rug_seen: bool = False
    pnl: int = 0  # lamports: sum of realised
    staked: int = 0  # buys + sidebet stakes
    buys: int = 0
    sells: int = 0
    rug_sells: int = 0
    sidebets: int = 0
    orders: int = 0
    intents: Counter = field(default_factory=Counter)  # intent action → decisions
    refused: Counter = field(default_factory=Counter)  # reason → refused decisions

    @property
    def klass(self) -> GameClass:
        """Complete, incomplete or skipped."""
        return classify_game(self.presale_decisions, self.live_decisions, self.first_live_tick,
                             self.rug_seen)

    @property
    def exit(self) -> str | None:
        """``rugged`` / ``sold`` / None."""
        return exit_of(self.sells, self.rug_sells)


class GameTally:
    """Folds the core's records into ``GameFacts`` per game, in first-seen order."""

    __slots__ = ("games",)

    def __init__(self) -> None:
        self.games: dict[str, GameFacts] = {}

    def _game(self, game_id: str) -> GameFacts:
        g = self.games.get(game_id)
        if g is None:
            g = self.games[game_id] = GameFacts(game_id)
        return g

    def add(self, records: Iterable[object]) -> None:
        """Fold one step's records."""
        for rec in records:
            kind = type(rec)
            if kind is DecisionRecord:
                g = self._game(rec.game_id)
                if rec.phase == PRESALE:
                    g.presale_decisions += 1
                else:
                    g.live_decisions += 1
                    if g.first_live_tick is None:
                        g.first_live_tick = rec.tick
                g.intents[rec.intent_action] += 1
                if rec.verdict == "refused":
                    g.refused[rec.reason] += 1
                elif rec.verdict == "order":
                    g.orders += 1
            elif kind is FillRecord:
                g = self._game(rec.game_id)
                g.pnl += rec.realised
                k = rec.kind
                if k == "buy":
                    g.buys += 1
                    g.staked += rec.amount
                elif k == "sell":
                    g.sells += 1
                elif k == "rug_sell":
                    g.rug_sells += 1
                elif k == "sidebet_place":
                    g.sidebets += 1
                    g.staked += rec.amount
            elif kind is TickRecord:
                if rec.phase == RUGGED:
                    self._game(rec.game_id).rug_seen = True
            elif kind is GameRecord:  # a finished game (watched, or revealed by history)
                self._game(rec.game_id)

    def played(self) -> list[GameFacts]:
        """Games with at least one decision, in first-seen order."""
        return [g for g in self.games.values() if g.klass is not GameClass.SKIPPED]

    def counts(self) -> dict[str, int]:
        """Complete / incomplete / skipped / played."""
        return count_games(g.klass for g in self.games.values())


def summarise_games(games: Iterable[GameFacts]) -> dict:
    """Totals the three commands print alike: P&L, refusals by reason, exits, orders."""
    games = list(games)
    refused: Counter = Counter()
    intents: Counter = Counter()
    for g in games:
        refused.update(g.refused)
        intents.update(g.intents)
    non_wait = sum(n for a, n in intents.items() if a != "wait")
    n_refused = sum(refused.values())
    exits = Counter(g.exit for g in games if g.exit is not None)
    closed = exits["sold"] + exits["rugged"]
    played = [g for g in games if g.klass is not GameClass.SKIPPED]
    return {
        "games": count_games(g.klass for g in games),
        "pnl_total_lamports": sum(g.pnl for g in games),
        "non_wait_intents": non_wait,
        "orders_refused": dict(sorted(refused.items(), key=lambda kv: (-kv[1], kv[0]))),
        "refused_share": n_refused / non_wait if non_wait else 0.0,
        "orders": sum(g.orders for g in games),
        "orders_per_game": sum(g.orders for g in played) / len(played) if played else 0.0,
        "exits": {"sold": exits["sold"], "rugged": exits["rugged"]},
        "rugged_share": exits["rugged"] / closed if closed else 0.0,
        "fills": {"buys": sum(g.buys for g in games), "sells": sum(g.sells for g in games),
                  "rug_sells": sum(g.rug_sells for g in games),
                  "sidebets": sum(g.sidebets for g in games)},
    }
