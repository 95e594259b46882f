"""The session's recently finished games, oldest first, bounded.

Two sources feed it: games the machine watched end (their rug event, or a new gameId
replacing them) and ``gameHistory`` entries (the server's last ten games, newest first,
seed revealed). Both can describe the same game; the history entry wins, because it is
the server's full record (a game joined mid-game has an incomplete peak).

Ordering: ``gameHistory`` is a contiguous newest-first run, so its entries are merged in
by anchoring on games already known. Entries newer than every anchor go to the end, but
before any watched game that no history has confirmed yet and that ended later than the
entry's server timestamp (a stale history can arrive after we saw the next rug).
"""

from __future__ import annotations

from dataclasses import dataclass

from rugsd.daemon.events import FinishedGame
from rugsd.daemon.state.view import GameSummary


@dataclass(slots=True)
class _Entry:
    summary: GameSummary
    key_ms: int | None  # server timestamp when confirmed, else our receive time
    confirmed: bool  # seen in a gameHistory


def summary_from_history(game: FinishedGame) -> GameSummary | None:
    """The summary of a history entry, or None when it carries no ``prices``."""
    if not game.prices:
        return None
    return GameSummary(game_id=game.game_id, rug_tick=len(game.prices) - 1, peak=game.peak)


class RecentGames:
    """Bounded, ordered record of finished games (mutable; owned by the state machine)."""

    __slots__ = ("_cache", "_entries", "_limit")

    def __init__(self, limit: int = 50) -> None:
        """Keep at most ``limit`` games."""
        self._entries: list[_Entry] = []
        self._limit = limit
        self._cache: tuple[GameSummary, ...] | None = ()

    def summaries(self) -> tuple[GameSummary, ...]:
        """The games, oldest first (cached until the next change)."""
        if self._cache is None:
            self._cache = tuple(e.summary for e in self._entries)
        return self._cache

    def get(self, game_id: str) -> GameSummary | None:
        """The summary of ``game_id`` if it is recorded."""
        i = self._index(game_id)
        return None if i is None else self._entries[i].summary

    def add_observed(self, summary: GameSummary, ended_ts_ms: int) -> None:
        """Record a game the machine watched end (replaces an older record of it)."""
        i = self._index(summary.game_id)
        if i is not None:
            if self._entries[i].confirmed:
                return  # the server's record is better than ours
            del self._entries[i]
        self._entries.append(_Entry(summary, ended_ts_ms, confirmed=False))
        self._trim()

    def merge_history(self, games: tuple[FinishedGame, ...]) -> None:
        """Merge a ``gameHistory`` list (newest first) into the record."""
        pending: list[_Entry] = []
        for game in reversed(games):  # oldest first
            summary = summary_from_history(game)
            i = self._index(game.game_id)
            if i is not None:
                entry = self._entries[i]
                if summary is not None:
                    entry.summary = summary
                entry.confirmed = True
                if game.timestamp_ms is not None:
                    entry.key_ms = game.timestamp_ms
                if pending:
                    self._entries[i:i] = pending
                    pending = []
            elif summary is not None:
                pending.append(_Entry(summary, game.timestamp_ms, confirmed=True))
        for entry in pending:
            pos = len(self._entries)
            while pos > 0 and self._is_later_unconfirmed(self._entries[pos - 1], entry):
                pos -= 1
            self._entries.insert(pos, entry)
        self._trim()
        self._cache = None

    @staticmethod
    def _is_later_unconfirmed(existing: _Entry, new: _Entry) -> bool:
        return (
            not existing.confirmed
            and existing.key_ms is not None
            and new.key_ms is not None
            and existing.key_ms > new.key_ms
        )

    def _index(self, game_id: str) -> int | None:
        # scanning at most ~60 entries, a few times per game: cheaper than an index map
        for i in range(len(self._entries) - 1, -1, -1):
            if self._entries[i].summary.game_id == game_id:
                return i
        return None

    def _trim(self) -> None:
        excess = len(self._entries) - self._limit
        if excess > 0:
            del self._entries[:excess]
        self._cache = None
