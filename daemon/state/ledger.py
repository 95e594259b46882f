"""Which games are over: ended game ids, ``gameHistory`` records, restarted sources.

Owned by the state machine (mutable, pure, bounded). It answers "is this event from a
game that already ended?" and keeps the server's records (seeds) of recent games.
"""

from __future__ import annotations

from collections import deque

from rugsd.daemon.events import FinishedGame

STALE_RESET = 20
"""Consecutive events of one ended game after which the machine follows that game again
(a late event or two is normal; twenty in a row means the source was restarted, e.g. a
simulator with a fixed seed replaying its game ids)."""

ENDED_LIMIT = 256  # ended game ids remembered


class GameLedger:
    """Ended game ids (bounded), ``gameHistory`` records by id (bounded), stale runs."""

    __slots__ = ("_ended", "_ended_set", "_history", "_history_limit", "_stale_gid", "_stale_run")

    def __init__(self, history_limit: int = 100) -> None:
        """Keep at most ``history_limit`` history records."""
        self._history: dict[str, FinishedGame] = {}
        self._history_limit = history_limit
        self._ended: deque[str] = deque()
        self._ended_set: set[str] = set()
        self._stale_run = 0
        self._stale_gid: str | None = None

    def record(self, game: FinishedGame) -> bool:
        """Store a history entry; True when its game id was not recorded before."""
        gid = game.game_id
        if gid in self._history:
            return False
        self._history[gid] = game
        if len(self._history) > self._history_limit:
            del self._history[next(iter(self._history))]
        self.mark_ended(gid)
        return True

    def get(self, game_id: str) -> FinishedGame | None:
        """The history record of ``game_id``, if kept."""
        return self._history.get(game_id)

    def mark_ended(self, game_id: str) -> None:
        """Remember that ``game_id`` is over."""
        if game_id in self._ended_set:
            return
        self._ended.append(game_id)
        self._ended_set.add(game_id)
        if len(self._ended) > ENDED_LIMIT:
            self._ended_set.discard(self._ended.popleft())

    def is_ended(self, game_id: str) -> bool:
        """True when ``game_id`` is a game that already ended."""
        return game_id in self._ended_set

    def stale_hit(self, game_id: str) -> bool:
        """Count one more event of the ended ``game_id``; True while it must be ignored.

        The ``STALE_RESET``-th consecutive one returns False and forgets the game as
        ended: the source restarted and the caller follows that game again.
        """
        self._stale_run = self._stale_run + 1 if game_id == self._stale_gid else 1
        self._stale_gid = game_id
        if self._stale_run < STALE_RESET:
            return True
        self._stale_run = 0
        self._ended_set.discard(game_id)
        return False

    def fresh(self) -> None:
        """An event of the tracked game arrived: any stale run is broken."""
        self._stale_run = 0
