"""``GameObserver``: an audit is requested when (and only when) a watched game's seed is
revealed, once per game; games never revealed are given up on with the reason."""

from __future__ import annotations

from dataclasses import replace

from audit_helpers import room_updates

from rugsd.daemon.audit.model import AuditRequest
from rugsd.daemon.audit.observe import NOT_REVEALED, GameObserver
from rugsd.daemon.events import GameUpdate

UPDATES = room_updates(4)


def _feed(observer: GameObserver, updates: list[GameUpdate]) -> list[tuple[int, AuditRequest]]:
    out = []
    for i, u in enumerate(updates):
        for r in observer.observe(u) or ():
            out.append((i, r))
    return out


def test_a_game_is_requested_at_the_update_that_reveals_it() -> None:
    got = _feed(GameObserver(), UPDATES)
    ids = list(dict.fromkeys(u.game_id for u in UPDATES))
    assert [r.game_id for _, r in got] == ids[:4]
    for i, r in got:
        revealing = UPDATES[i]
        assert r.revealed in revealing.history
        assert r.ts_ms == revealing.ts_ms
        assert all(u.game_id == r.game_id for u in r.updates)
        # nothing of the game is requested before its reveal
        assert not any(g.game_id == r.game_id for u in UPDATES[:i] for g in u.history)


def test_each_game_is_requested_once_and_late_updates_are_ignored() -> None:
    observer = GameObserver()
    got = _feed(observer, UPDATES)
    first = got[0][1]
    late = replace(first.updates[-1], ts_ms=UPDATES[-1].ts_ms + 1)
    again = replace(UPDATES[-1], ts_ms=UPDATES[-1].ts_ms + 2)  # history shown again
    assert observer.observe(late) is None
    assert observer.observe(again) is None
    assert len(got) == 4


def test_games_never_revealed_are_given_up_with_the_reason() -> None:
    hidden = [replace(u, history=()) for u in UPDATES]
    observer = GameObserver(max_pending=2)
    got = [r for _, r in _feed(observer, hidden)]
    assert got and all(r.revealed is None and r.why == NOT_REVEALED for r in got)
    assert observer.pending <= 2
    rest = observer.flush(hidden[-1].ts_ms)
    # the current game (only its cooldown seen) is not a game we saw running
    assert len(got) + len(rest) == 4


def test_only_watched_games_are_audited_unless_asked() -> None:
    tail = UPDATES[len(UPDATES) // 2:]  # join late: earlier games only in the history
    watched = {r.game_id for _, r in _feed(GameObserver(), tail)}
    everything = {r.game_id for _, r in _feed(GameObserver(audit_unobserved=True), tail)}
    assert watched < everything
    unobserved = everything - watched
    assert unobserved


def test_the_hot_path_only_keeps_the_update() -> None:
    observer = GameObserver()
    u = next(x for x in UPDATES if x.active and not x.history)
    assert observer.observe(u) is None
    assert observer._games[u.game_id] == [u]  # kept as is: no work until the reveal
