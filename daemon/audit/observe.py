"""What the venue showed of each game: the core's cheap hook and the pure extraction.

``GameObserver.observe(update)`` runs inside the decision core on every feed update, so it
only *keeps* the update (one list append; the updates are frozen) and watches for
``gameHistory`` entries that reveal a kept game's seed. It returns ``AuditRequest``s —
for a revealed game, and for a game given up on (``max_pending`` newer games kept and
still no reveal: the feed's history holds the last 10 games, so its seed will never
come). Everything expensive happens later, off the hot path, in ``collect`` and
``rugsd.daemon.audit.check.audit_game``.

``collect`` decides what "observed" means (DESIGN.md §1, the feed protocol):

- every active, not rugged update claims its own ``price`` at its ``tickCount`` (live),
  the ``partialPrices`` values (the last few ticks, repeated on every update; they also
  fill a gap of missed ticks) and, on a mid-game connect, the full ``prices`` backfill
  from tick 0 — all of it is what the venue said, so all of it is checked;
- the first ``rugged`` update claims the rug: its ``tickCount`` and price; its
  ``partialPrices`` claim the ticks before it (and repeat the rug price at the rug tick).
  Later rugged updates repeat the rug state (normal) and are counted, not re-read;
- cooldown and presale updates claim no price (their ``price: 1`` / ``tickCount: 0``
  describe the next game's start, not a tick); they carry the commitment;
- the revealed ``gameHistory`` record claims its whole ``prices`` array, the last element
  being the rug price;
- a tick the feed skipped and nothing filled is simply not observed (the state machine
  carries a price forward there; the audit never compares a carried price); a duplicate
  with the same value merges into one claim, a different value is a claim of its own;
- the commitment is every ``serverSeedHash`` seen on the game's updates.
"""

from __future__ import annotations

from collections import Counter

from rugsd.daemon.audit.model import AuditRequest, Claim, Observed, Source
from rugsd.daemon.events import FinishedGame, GameUpdate

MAX_PENDING = 12
"""Games kept while waiting for their reveal (the feed's history shows the last 10)."""
_DONE_KEEP = 256  # ids of games already audited: their late updates are ignored

NOT_REVEALED = "seed never revealed (no gameHistory entry with this game's serverSeed)"


class GameObserver:
    """Keeps each game's updates until its seed is revealed; emits ``AuditRequest``s.

    ``audit_unobserved``: also request an audit of revealed games that were never seen
    live (their published ``prices`` are the only evidence) — the offline audit does,
    the daemon does not (it audits what it traded on).
    """

    def __init__(self, max_pending: int = MAX_PENDING, audit_unobserved: bool = False) -> None:
        self.max_pending = max_pending
        self.audit_unobserved = audit_unobserved
        self._games: dict[str, list[GameUpdate]] = {}
        self._cur_id: str | None = None
        self._cur: list[GameUpdate] | None = None
        self._done: dict[str, None] = {}  # insertion-ordered set, bounded
        self.requested = 0

    @property
    def pending(self) -> int:
        """Games kept and not yet handed out."""
        return len(self._games)

    def observe(self, update: GameUpdate) -> list[AuditRequest] | None:
        """Keep ``update``; the audits it triggers (None almost always)."""
        if update.game_id != self._cur_id:
            out = self._switch(update)
        else:
            out = None
        if self._cur is not None:
            self._cur.append(update)
        if update.history:
            out = self._reveal(update, out)
        return out

    def flush(self, ts_ms: int, why: str = NOT_REVEALED) -> list[AuditRequest]:
        """Give up on every kept game (end of an offline input)."""
        out: list[AuditRequest] = []
        for gid in list(self._games):
            self._give_up(gid, ts_ms, why, out)
        self._cur_id, self._cur = None, None
        return out

    # ------------------------------------------------------------------ internals
    def _switch(self, update: GameUpdate) -> list[AuditRequest] | None:
        gid = update.game_id
        self._cur_id = gid
        if gid in self._done:
            self._cur = None  # a late update of an audited game: nothing to add
            return None
        cur = self._games.get(gid)
        out: list[AuditRequest] | None = None
        if cur is None:
            cur = self._games[gid] = []
            if len(self._games) > self.max_pending:
                out = []
                oldest = next(iter(self._games))
                self._give_up(oldest, update.ts_ms, NOT_REVEALED, out)
        self._cur = cur
        return out

    def _reveal(
        self, update: GameUpdate, out: list[AuditRequest] | None
    ) -> list[AuditRequest] | None:
        for game in update.history:
            gid = game.game_id
            if gid == update.game_id or gid in self._done:
                continue  # a game cannot be in its own history; audited already
            updates = self._games.pop(gid, None)
            if updates is None and not self.audit_unobserved:
                continue
            if out is None:
                out = []
            self._mark_done(gid)
            out.append(AuditRequest(gid, update.ts_ms, tuple(updates or ()), game))
        return out

    def _give_up(self, gid: str, ts_ms: int, why: str, out: list[AuditRequest]) -> None:
        updates = self._games.pop(gid)
        if gid == self._cur_id:
            self._cur = None
        self._mark_done(gid)
        if any(u.active or u.rugged for u in updates):  # a game we saw running
            out.append(AuditRequest(gid, ts_ms, tuple(updates), None, why))

    def _mark_done(self, gid: str) -> None:
        self.requested += 1
        done = self._done
        done[gid] = None
        if len(done) > _DONE_KEEP:
            del done[next(iter(done))]


class _Claims:
    """Claims by tick, merging equal values and keeping different ones apart."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[int, float, bool], str] = {}
        self.counts: Counter[str] = Counter()

    def add(self, tick: int, value: float, source: Source, rug: bool = False) -> None:
        key = (tick, value, rug)
        have = self.by_key.get(key)
        if have is None:
            self.by_key[key] = source.value
        else:
            self.counts["duplicates"] += 1
            if source.value not in have:
                self.by_key[key] = have + source.value
        self.counts[source.label] += 1

    def claims(self) -> tuple[Claim, ...]:
        ordered = sorted(self.by_key.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1]))
        return tuple(Claim(t, v, s, r) for (t, v, r), s in ordered)


def collect(
    game_id: str, updates: tuple[GameUpdate, ...], revealed: FinishedGame | None = None
) -> Observed:
    """The prices ``updates`` (and the revealed record) claim for ``game_id``."""
    claims = _Claims()
    hashes: list[str] = []
    version: str | None = None
    entry: int | None = None
    saw_start = False  # the game's cooldown or presale was seen: watched from its start
    rug_seen = False
    for u in updates:
        if u.game_id != game_id:
            continue
        h = u.server_seed_hash
        if h is not None and h not in hashes:
            hashes.append(h)
        if version is None and u.version is not None:
            version = u.version
        if u.rugged:
            if rug_seen:
                claims.counts["post_rug"] += 1
                continue
            rug_seen = True
            _rug(u, claims)
        elif u.active:
            if entry is None and u.tick is not None:
                entry = 0 if saw_start else u.tick
            _active(u, claims)
        else:
            saw_start = True
    if revealed is not None and revealed.prices:
        prices = revealed.prices
        last = len(prices) - 1
        for k in range(last):
            claims.add(k, prices[k], Source.HISTORY)
        claims.add(last, prices[last], Source.HISTORY, rug=True)
    if version is None and revealed is not None:
        version = revealed.version
    return Observed(
        game_id=game_id,
        hashes=tuple(hashes),
        version=version,
        claims=claims.claims(),
        entry_tick=entry,
        counts=dict(sorted(claims.counts.items())),
    )


def _active(u: GameUpdate, claims: _Claims) -> None:
    if u.backfill:
        for k, v in enumerate(u.backfill):
            claims.add(k, v, Source.BACKFILL)
    for k, v in u.partial_prices:
        claims.add(k, v, Source.PARTIAL)
    if u.tick is not None and u.price is not None:
        claims.add(u.tick, u.price, Source.LIVE)


def _rug(u: GameUpdate, claims: _Claims) -> None:
    t = u.tick
    for k, v in u.partial_prices:
        claims.add(k, v, Source.PARTIAL, rug=t is not None and k >= t)
    if u.backfill:
        n = len(u.backfill)
        for k, v in enumerate(u.backfill):
            claims.add(k, v, Source.BACKFILL, rug=t is not None and k >= t and k == n - 1)
    if t is not None and u.price is not None:
        claims.add(t, u.price, Source.LIVE, rug=True)
