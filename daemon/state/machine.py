"""The game-state machine: ``GameUpdate`` events in, transitions and a ``GameView`` out.

Pure and synchronous (no clock, no I/O): the same updates always give the same
transitions, so replays are deterministic. It follows one game at a time:

- Phase: RUGGED if ``rugged`` (checked first: the rug event also says ``active``),
  ACTIVE if ``active``, PRESALE if ``allow_prebuys`` and ``cooldown_ms <= 10000``,
  else COOLDOWN. Within one game the phase only moves forward
  (COOLDOWN < PRESALE < ACTIVE < RUGGED); anything going back is a late event and ignored.
- Ticks: ``prices[t]`` is the price at tick ``t``. A duplicated or older tick is ignored
  (counted); skipped ticks are filled from the update's ``backfill``/``partialPrices``,
  else the last price is carried forward (counted as a gap). A carried slot is corrected
  later if real data for it arrives (``backfill``, ``partialPrices``, a late tick), and
  the carried slots after it then carry the corrected price.
- Mid-game connect: tick 0 is 1.0 by the rules, the ticks in between come from
  ``backfill``/``partialPrices`` or are carried; ``started_ts_ms`` stays None.
- Game change: events of a game that already ended are ignored (unless ``STALE_RESET``
  of them arrive in a row: the source restarted); a new gameId while the old game was
  active finishes the old game without its rug (anomaly + GameFinished).

``view`` is rebuilt lazily, at most once per applied update, in O(1): ``prices`` is a
``PriceHistory`` snapshot sharing the machine's list (see ``rugsd.daemon.state.prices``).
"""

from __future__ import annotations

import math

from rugsd.daemon.events import FinishedGame, GameUpdate, Phase, SessionStats
from rugsd.daemon.game.rules import MAX_TICKS, PRESALE_MS, START_PRICE
from rugsd.daemon.state.ledger import STALE_RESET, GameLedger
from rugsd.daemon.state.prices import EMPTY_PRICES, PriceHistory
from rugsd.daemon.state.recent import RecentGames, summary_from_history
from rugsd.daemon.state.transitions import (
    Anomaly,
    AnomalyKind,
    GameFinished,
    HistoryRevealed,
    NewGame,
    PhaseChanged,
    Rugged,
    TickAdvanced,
    TickSource,
    Transition,
)
from rugsd.daemon.state.view import GameSummary, GameView

MAX_TICK = MAX_TICKS + 1000
"""Largest tick the machine accepts (a game has at most MAX_TICKS + 1 ticks; margin for
the post-rug events). Bigger ticks are invalid: they would make the gap fill huge."""

_RANK = {Phase.UNKNOWN: -1, Phase.COOLDOWN: 0, Phase.PRESALE: 1, Phase.ACTIVE: 2, Phase.RUGGED: 3}
_INF = math.inf


def classify(update: GameUpdate) -> Phase:
    """The phase an update describes (``rugged`` before ``active``)."""
    if update.rugged:
        return Phase.RUGGED
    if update.active:
        return Phase.ACTIVE
    if update.allow_prebuys and update.cooldown_ms <= PRESALE_MS:
        return Phase.PRESALE
    return Phase.COOLDOWN


class GameStateMachine:
    """Tracks the current game from ``GameUpdate`` events (see the module docstring)."""

    def __init__(self, *, recent_limit: int = 50, history_limit: int = 100) -> None:
        """``recent_limit`` finished games kept for session features; ``history_limit``
        ``gameHistory`` entries kept for ``finished_game``."""
        self._recent = RecentGames(recent_limit)
        self._ledger = GameLedger(history_limit)
        self._counts: dict[str, int] = {}
        self._stats: SessionStats | None = None
        self._seed_hash: str | None = None
        self._version: str | None = None
        self._ts_ms = 0
        self._game_id: str | None = None
        self._phase = Phase.UNKNOWN
        self._view: GameView | None = None
        self._reset_game()

    # ------------------------------------------------------------------ public API
    @property
    def view(self) -> GameView:
        """The current snapshot. ``prices`` holds ticks ``0..tick`` and never changes."""
        view = self._view
        if view is None:
            prices = self._prices
            n = len(prices)
            if n:
                self._shared = True  # the list is now referenced: copy before patching it
            view = GameView(
                game_id=self._game_id,
                phase=self._phase,
                tick=self._tick,
                price=prices[-1] if n else START_PRICE,
                prices=PriceHistory(prices, n) if n else EMPTY_PRICES,
                peak=self._peak,
                cooldown_ms=self._cooldown_ms,
                allow_prebuys=self._allow_prebuys,
                ts_ms=self._ts_ms,
                started_ts_ms=self._started_ts_ms,
                last_tick_ts_ms=self._last_tick_ts_ms,
                rug_tick=self._rug_tick,
                rug_price=self._rug_price,
                stats=self._stats,
                recent=self._recent.summaries(),
                server_seed_hash=self._seed_hash,
                version=self._version,
            )
            self._view = view
        return view

    def finished_game(self, game_id: str) -> FinishedGame | None:
        """The ``gameHistory`` record (seed revealed) of a recent game, if seen."""
        return self._ledger.get(game_id)

    def seed_recent(self, games: tuple[GameSummary, ...]) -> None:
        """Start knowing ``games`` (oldest first) as finished, as if watched: a training
        episode of one recorded game gets the session a replay had at that game."""
        for game in games:
            self._recent.add_observed(game, 0)
        self._view = None

    def stats(self) -> dict[str, int]:
        """Counters: updates applied, anomalies by kind, post-rug repeats, games finished."""
        return dict(self._counts)

    def apply(self, update: GameUpdate) -> tuple[Transition, ...]:
        """Apply one update; return what changed, in order."""
        out: list[Transition] = []
        self._count("updates")
        self._view = None
        self._ts_ms = max(self._ts_ms, update.ts_ms)
        gid = update.game_id
        revealed = self._absorb_history(update.history, gid, out) if update.history else ()
        report_old = self._phase
        if gid != self._game_id:
            if self._ledger.is_ended(gid):
                if self._ledger.stale_hit(gid):
                    out.extend(revealed)
                    self._anomaly(out, AnomalyKind.STALE_GAME, gid)
                    return tuple(out)
                self._anomaly(out, AnomalyKind.FEED_RESET, f"{gid} came back {STALE_RESET}x")
            self._end_game(update.ts_ms, out)
            out.extend(revealed)
            self._reset_game()
            self._game_id = gid
            out.append(NewGame(gid))
        else:
            self._ledger.fresh()
            out.extend(revealed)
        if update.stats is not None:
            self._stats = update.stats
        if update.server_seed_hash is not None:
            self._seed_hash = update.server_seed_hash
        if update.version is not None:
            self._version = update.version
        self._apply_current(update, report_old, out)
        return tuple(out)

    # ------------------------------------------------------------------ game lifecycle
    def _reset_game(self) -> None:
        self._phase = Phase.UNKNOWN
        self._prices: list[float] = []
        self._shared = False
        self._unknown: set[int] = set()
        self._tick = -1
        self._peak = START_PRICE
        self._cooldown_ms = 0
        self._allow_prebuys = False
        self._started_ts_ms: int | None = None
        self._last_tick_ts_ms: int | None = None
        self._rug_tick: int | None = None
        self._rug_price: float | None = None

    def _end_game(self, ts_ms: int, out: list[Transition]) -> None:
        """Leave the tracked game because a new gameId arrived."""
        old = self._game_id
        if old is None:
            return
        self._ledger.mark_ended(old)
        if self._phase is Phase.ACTIVE:
            self._anomaly(out, AnomalyKind.MISSED_RUG, f"{old} at tick {self._tick}")
            known = self._ledger.get(old)
            summary = summary_from_history(known) if known is not None else None
            if summary is None:  # the rug came after the last tick we saw
                summary = GameSummary(old, rug_tick=self._tick + 1, peak=self._peak)
            self._recent.add_observed(summary, ts_ms)
            self._count("games_finished")
            out.append(GameFinished(summary, tuple(self._prices), complete=False, rug_seen=False))
        elif self._phase in (Phase.COOLDOWN, Phase.PRESALE):
            self._anomaly(out, AnomalyKind.ABANDONED_GAME, f"{old} never started")

    def _absorb_history(
        self, games: tuple[FinishedGame, ...], update_gid: str, out: list[Transition]
    ) -> list[Transition]:
        """Record new ``gameHistory`` entries; return their HistoryRevealed transitions."""
        revealed: list[Transition] = []
        for game in games:
            gid = game.game_id
            if gid == update_gid or not self._ledger.record(game):
                continue  # the update's own game cannot have finished yet; or known
            observed = self._recent.get(gid)
            from_history = summary_from_history(game)
            if (
                observed is not None
                and from_history is not None
                and observed.rug_tick != from_history.rug_tick
            ):
                self._anomaly(
                    out,
                    AnomalyKind.HISTORY_MISMATCH,
                    f"{gid} rug tick {observed.rug_tick} vs {from_history.rug_tick}",
                )
            revealed.append(HistoryRevealed(game))
        if revealed:
            self._recent.merge_history(games)
        return revealed

    # ------------------------------------------------------------------ per-update logic
    def _apply_current(self, update: GameUpdate, report_old: Phase, out: list[Transition]) -> None:
        new = classify(update)
        cur = self._phase
        if cur is Phase.RUGGED:
            if new is Phase.RUGGED:
                self._count("post_rug")  # the server repeats the rug state: normal
            else:
                self._anomaly(out, AnomalyKind.OUT_OF_ORDER, f"{new} event after the rug")
            return
        if new is Phase.RUGGED:
            self._rug(update, cur, report_old, out)
        elif new is Phase.ACTIVE:
            self._active(update, cur, report_old, out)
        elif _RANK[new] < _RANK[cur] or (new is cur and update.cooldown_ms > self._cooldown_ms):
            self._anomaly(
                out, AnomalyKind.OUT_OF_ORDER, f"{new} {update.cooldown_ms} ms after {cur}"
            )
        else:
            self._cooldown_ms = update.cooldown_ms
            self._allow_prebuys = update.allow_prebuys
            if new is not cur:
                self._phase = new
                out.append(PhaseChanged(report_old, new))

    def _valid_tick(self, update: GameUpdate, out: list[Transition]) -> bool:
        t, p = update.tick, update.price
        if t is None or p is None or not (0 <= t <= MAX_TICK) or not (0.0 <= p < _INF):
            self._anomaly(out, AnomalyKind.INVALID_UPDATE, f"tick={t} price={p}")
            return False
        return True

    def _active(
        self, update: GameUpdate, cur: Phase, report_old: Phase, out: list[Transition]
    ) -> None:
        if not self._valid_tick(update, out):
            return
        t: int = update.tick  # type: ignore[assignment]
        p: float = update.price  # type: ignore[assignment]
        if cur is not Phase.ACTIVE:
            self._phase = Phase.ACTIVE
            self._cooldown_ms = update.cooldown_ms
            self._allow_prebuys = update.allow_prebuys
            out.append(PhaseChanged(report_old, Phase.ACTIVE))
            if t == 0:
                self._started_ts_ms = update.ts_ms
            else:
                self._catch_up(update, t, cur, out)
            self._push_live(t, p, update.ts_ms, out)
            return
        c = self._tick
        if t == c + 1:  # the common case: the next tick
            self._push_live(t, p, update.ts_ms, out)
            if self._unknown:
                self._patch(update, out)
            return
        if t <= c:
            kind = AnomalyKind.DUPLICATE_TICK if t == c else AnomalyKind.OUT_OF_ORDER
            self._anomaly(out, kind, f"tick {t} at {c}")
            if t in self._unknown:
                self._set_slot(t, p)
            if self._unknown:
                self._patch(update, out)
            return
        self._fill(c + 1, t, update, out, emit=True)
        self._push_live(t, p, update.ts_ms, out)
        if self._unknown:
            self._patch(update, out)

    def _rug(
        self, update: GameUpdate, cur: Phase, report_old: Phase, out: list[Transition]
    ) -> None:
        if self._valid_tick(update, out):
            t: int = update.tick  # type: ignore[assignment]
            p: float = update.price  # type: ignore[assignment]
        else:  # still a rug: place it right after what we know
            t, p = self._tick + 1, update.price if update.price is not None else 0.0
            p = p if 0.0 <= p < _INF else 0.0
        if cur is not Phase.ACTIVE:
            self._catch_up(update, t, cur, out)
        elif t <= self._tick:
            self._anomaly(out, AnomalyKind.OUT_OF_ORDER, f"rug tick {t} at {self._tick}")
            t = self._tick + 1
        else:
            self._fill(self._tick + 1, t, update, out, emit=True)
        if self._unknown:
            self._patch(update, out)
        self._prices.append(p)  # the rug price: not part of the peak
        self._tick = t
        self._last_tick_ts_ms = update.ts_ms
        self._rug_tick = t
        self._rug_price = p
        self._phase = Phase.RUGGED
        gid = self._game_id or update.game_id
        summary = GameSummary(gid, rug_tick=t, peak=self._peak)
        self._recent.add_observed(summary, update.ts_ms)
        self._count("games_finished")
        out.append(PhaseChanged(report_old, Phase.RUGGED))
        out.append(Rugged(gid, t, p))
        out.append(
            GameFinished(summary, tuple(self._prices), complete=not self._unknown, rug_seen=True)
        )

    # ------------------------------------------------------------------ prices
    def _catch_up(self, update: GameUpdate, t: int, cur: Phase, out: list[Transition]) -> None:
        """First active sight of a game at tick ``t > 0``: build ticks ``0..t-1``."""
        if t == 0:
            return
        if cur is Phase.UNKNOWN:  # joined mid-game: no TickAdvanced for the past
            self._anomaly(
                out,
                AnomalyKind.MID_GAME_JOIN,
                f"tick {t} backfill={0 if update.backfill is None else len(update.backfill)}",
            )
            self._fill(0, t, update, out, emit=False)
        else:  # watched the cooldown but missed the start
            self._fill(0, t, update, out, emit=True)

    def _push_live(self, t: int, p: float, ts_ms: int, out: list[Transition]) -> None:
        self._prices.append(p)
        self._tick = t
        self._peak = max(self._peak, p)
        self._last_tick_ts_ms = ts_ms
        out.append(TickAdvanced(t, p))

    def _fill(
        self, lo: int, hi: int, update: GameUpdate, out: list[Transition], *, emit: bool
    ) -> None:
        """Append ticks ``lo..hi-1``: backfill, else partialPrices, else carried forward."""
        if lo >= hi:
            return
        backfill = update.backfill
        n_back = len(backfill) if backfill is not None else 0
        partial = dict(update.partial_prices) if update.partial_prices else {}
        prices = self._prices
        last = prices[-1] if prices else START_PRICE
        peak = self._peak
        carried = 0
        for k in range(lo, hi):
            if k < n_back:
                v, src = backfill[k], TickSource.BACKFILL  # type: ignore[index]
            elif k in partial:
                v, src = partial[k], TickSource.PARTIAL
            elif k == 0:
                v, src = START_PRICE, TickSource.CARRIED  # every game starts at 1.0x
            else:
                v, src = last, TickSource.CARRIED
                self._unknown.add(k)
                carried += 1
            prices.append(v)
            last = v
            peak = max(peak, v)
            if emit:
                out.append(TickAdvanced(k, v, src))
        self._peak = peak
        if emit:  # a gap while watching (a mid-game join is reported on its own)
            self._anomaly(out, AnomalyKind.GAP, f"ticks {lo}..{hi - 1} carried={carried}")
        if n_back > 0:
            self._anomaly(out, AnomalyKind.BACKFILL, f"{min(n_back, hi)} ticks")

    def _patch(self, update: GameUpdate, out: list[Transition]) -> None:
        """Correct carried slots with real prices from this update."""
        unknown = self._unknown
        backfill = update.backfill
        if backfill is not None:
            n = len(backfill)
            hits = [k for k in unknown if k < n]
            for k in hits:
                self._set_slot(k, backfill[k])
            if hits:
                self._anomaly(out, AnomalyKind.BACKFILL, f"corrected {len(hits)} ticks")
        for k, v in update.partial_prices:
            if k in unknown:
                self._set_slot(k, v)

    def _set_slot(self, k: int, v: float) -> None:
        """Put a real price into carried slot ``k`` and re-carry it over the unknown run
        after it (a carried slot always holds the nearest real price before it)."""
        if self._shared:  # a view holds the list: never change what it shows
            self._prices = self._prices.copy()
            self._shared = False
        prices, unknown = self._prices, self._unknown
        prices[k] = v
        unknown.discard(k)
        j = k + 1
        while j in unknown:
            prices[j] = v
            j += 1
        self._peak = max(self._peak, v)

    # ------------------------------------------------------------------ bookkeeping
    def _count(self, key: str) -> None:
        self._counts[key] = self._counts.get(key, 0) + 1

    def _anomaly(self, out: list[Transition], kind: AnomalyKind, detail: str) -> None:
        self._count(f"anomaly.{kind.value}")
        out.append(Anomaly(kind, detail))
