"""The simulator's room: a pure state machine of continuous games (no clock, no I/O).

``Room.step()`` plays the next scheduled step (``rugsd.daemon.sim.schedule``) and returns what to
send: ``Emit`` (an event with its arguments, to everyone or to one player's connections)
and ``Ack`` (the answer to an order that was waiting for a tick). ``Room.next_at_ms`` is the
virtual time of that step; the server (``rugsd.daemon.sim.server``) maps virtual time to wall
time with ``--speed`` and calls ``step()`` when it is due. Orders enter with
``Room.submit()``, which answers at once (presale fills, refusals) or queues the order for
the next tick, following the shared rule in ``rugsd.daemon.game.matching``. Every money movement
goes through ``rugsd.daemon.game.accounting``.

The room's phase is the phase of the last event it emitted, so a client and the room always
agree on which rule applies to an order.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import open_account
from rugsd.daemon.game.matching import (
    Admission,
    MatchReject,
    OrderKind,
    Outcome,
    PendingOrder,
    admit,
    fill_presale,
    match_tick,
    precheck,
)
from rugsd.daemon.game.rules import CURRENT_VERSION, PRESALE_MS, PRESALE_PRICE, START_PRICE
from rugsd.daemon.sim import payloads as pl
from rugsd.daemon.sim.desk import (
    GAME_STATE,
    Ack,
    Desk,
    Emit,
    Output,
    Submission,
)
from rugsd.daemon.sim.players import (
    DEFAULT_COIN_ADDRESS,
    GameStats,
    OrderError,
    Player,
    leaderboard_entry,
    ledger_dict,
    parse_order,
    player_update,
)
from rugsd.daemon.sim.schedule import (
    PRESALE_FIRST_STEP,
    GamePlan,
    Step,
    StepKind,
    cooldown_timer,
    first_step,
    next_step,
    plan_game,
)
from rugsd.daemon.sim.stats import SessionTotals, add_game
from rugsd.daemon.sim.tamper import Tamper, tamper_plan

HISTORY_SIZE = 10
LEADERBOARD_SIZE = 10


class Room:
    """Continuous games with player accounts; see the module docstring."""

    def __init__(
        self,
        seed: str,
        *,
        start_ms: int,
        starting_balance: int,
        version: str = CURRENT_VERSION,
        history_size: int = HISTORY_SIZE,
        tamper: Tamper | str | None = None,
    ) -> None:
        """Plan the first game from ``seed``; virtual time starts at ``start_ms``.

        ``tamper`` makes every game cheat (``rugsd.daemon.sim.tamper``; tests only)."""
        self.seed = seed
        self.version = version
        self.tamper = Tamper(tamper) if tamper is not None else None
        self.starting_balance = starting_balance
        self.plan: GamePlan = self._plan(0, start_ms)
        self.phase = Phase.UNKNOWN
        self.tick = -1
        self.now_ms = start_ms
        self.connected = 0
        self.players: dict[str, Player] = {}
        self.totals = SessionTotals()
        self.desk = Desk(seed)
        self.bad_orders = 0
        self.games_played = 0
        self.last_step: Step | None = None
        self._next: Step = first_step(self.plan)
        self._upcoming: GamePlan | None = None
        self._pending: list[tuple[str, PendingOrder]] = []
        self._history: deque[pl.Payload] = deque(maxlen=history_size)

    # ----------------------------------------------------------------- public queries
    @property
    def next_at_ms(self) -> int:
        """Virtual time of the next step."""
        return self._next.at_ms

    @property
    def next_kind(self) -> StepKind:
        """Kind of the next step."""
        return self._next.kind

    @property
    def history(self) -> list[pl.Payload]:
        """``gameHistory``: the finished games, most recent first."""
        return list(self._history)

    @property
    def pending_count(self) -> int:
        """Orders waiting for the next tick."""
        return len(self._pending)

    def join(self, player_id: str, username: str) -> Player:
        """The player's record, opened with the starting balance on first sight."""
        p = self.players.get(player_id)
        if p is None:
            p = Player(player_id, username, open_account(self.starting_balance))
            self.players[player_id] = p
        return p

    def forget(self, player_id: str) -> bool:
        """Drop a player with nothing at stake (flat, no sidebet, no pending order)."""
        p = self.players.get(player_id)
        if p is None or p.account.qty or p.account.sidebet is not None:
            return False
        if any(pid == player_id for pid, _ in self._pending):
            return False
        del self.players[player_id]
        return True

    def ledger(self, player_id: str) -> dict[str, Any] | None:
        """The exact integer account of ``player_id`` (None if unknown)."""
        p = self.players.get(player_id)
        if p is None:
            return None
        pending = sum(1 for pid, _ in self._pending if pid == player_id)
        return ledger_dict(p, pending)

    def player_update(self, player_id: str) -> dict[str, Any] | None:
        """The ``playerUpdate`` payload of ``player_id`` (None if unknown)."""
        p = self.players.get(player_id)
        return None if p is None else player_update(p, self.plan.game_id, self._mark_price())

    def health(self) -> dict[str, Any]:
        """Status for ``GET /health``."""
        return {
            "gameId": self.plan.game_id,
            "phase": str(self.phase),
            "tick": self.tick,
            "players": len(self.players),
            "connected": self.connected,
            "gamesPlayed": self.games_played,
            "pending": len(self._pending),
            "badOrders": self.bad_orders,
            "rejects": dict(self.desk.rejects),
        }

    def snapshot(self) -> pl.Payload | None:
        """A full ``gameStateUpdate`` for a new connection (None before the first step)."""
        step = self.last_step
        if step is None:
            return None
        c = self._common(self._mark_price())
        if self.phase in (Phase.COOLDOWN, Phase.PRESALE):
            return pl.full_state(
                c,
                self.history,
                active=False,
                rugged=False,
                price=START_PRICE,
                tick=0,
                timer=cooldown_timer(step.index),
                presale=self.phase == Phase.PRESALE,
                prices=[START_PRICE],
            )
        rugged = self.phase == Phase.RUGGED
        prices = self.plan.full_prices() if rugged else self.plan.outcome.prices
        return pl.full_state(
            c,
            self.history,
            active=True,
            rugged=rugged,
            price=prices[self.tick],
            tick=self.tick,
            timer=0,
            presale=False,
            prices=prices,
            backfill=True,
        )

    def _plan(self, number: int, start_ms: int) -> GamePlan:
        return tamper_plan(plan_game(self.seed, number, start_ms, self.version), self.tamper)

    # ----------------------------------------------------------------- stepping
    def step(self) -> list[Output]:
        """Play the next scheduled step and return what to send."""
        step = self._next
        self.now_ms = step.at_ms
        if step.kind == StepKind.COOLDOWN:
            out = self._cooldown(step.index)
        elif step.kind == StepKind.TICK:
            out = self._tick(step.index)
        elif step.kind == StepKind.RUG:
            out = self._rug()
        else:
            out = self._postrug()
        self.last_step = step
        nxt = next_step(self.plan, step)
        if nxt is None:
            self._upcoming = self._plan(self.plan.number + 1, self.plan.next_start_ms)
            nxt = first_step(self._upcoming)
        self._next = nxt
        return out

    def _cooldown(self, index: int) -> list[Output]:
        if index == 0:
            self._begin_cycle()
        timer = cooldown_timer(index)
        presale = timer <= PRESALE_MS
        self.phase = Phase.PRESALE if presale else Phase.COOLDOWN
        self.tick = -1
        c = self._common(None)
        if index == 0:
            payload = pl.full_state(
                c,
                self.history,
                active=False,
                rugged=False,
                price=START_PRICE,
                tick=0,
                timer=timer,
                presale=presale,
                prices=[START_PRICE],
            )
        elif index == PRESALE_FIRST_STEP:
            payload = pl.presale_transition(c, self.desk.trade_count, timer)
        else:
            payload = pl.cooldown_minimal(c, timer, presale)
        return [Emit(GAME_STATE, (payload,))]

    def _begin_cycle(self) -> None:
        if self._upcoming is not None:
            self._archive(self.plan)
            self.plan = self._upcoming
            self._upcoming = None
        self.desk.new_game()
        for p in self.players.values():
            p.stats = GameStats()

    def _tick(self, tick: int) -> list[Output]:
        self.phase = Phase.ACTIVE
        self.tick = tick
        price = self.plan.price_at(tick)
        after = self._match(tick, price, rugged=False)
        c = self._common(price)
        if tick == 0:
            payload = pl.game_start(c)
        else:
            payload = pl.active_tick(
                c,
                prices=self.plan.outcome.prices,
                tick=tick,
                trade_count=self.desk.trade_count,
                rugged=False,
            )
        return [Emit(GAME_STATE, (payload,)), *after]

    def _rug(self) -> list[Output]:
        self.phase = Phase.RUGGED
        tick = self.plan.rug_tick
        self.tick = tick
        after = self._match(tick, self.plan.rug_price, rugged=True)
        c = self._common(self.plan.rug_price)
        payload = pl.active_tick(
            c,
            prices=self.plan.full_prices(),
            tick=tick,
            trade_count=self.desk.trade_count,
            rugged=True,
        )
        return [Emit(GAME_STATE, (payload,)), *after]

    def _postrug(self) -> list[Output]:
        c = self._common(self.plan.rug_price)
        payload = pl.full_state(
            c,
            self.history,
            active=True,
            rugged=True,
            price=self.plan.rug_price,
            tick=self.plan.rug_tick,
            timer=0,
            presale=False,
            prices=self.plan.full_prices(),
        )
        return [Emit(GAME_STATE, (payload,))]

    def _archive(self, plan: GamePlan) -> None:
        o = plan.outcome
        entry = pl.history_entry(
            game_id=o.game_id,
            timestamp=plan.rug_ms,
            prices=plan.full_prices(),
            peak=o.peak,
            sidebets=self.desk.sidebets,
            server_seed=o.server_seed,
            server_seed_hash=o.server_seed_hash,
            version=o.version,
        )
        self._history.appendleft(entry)
        self.games_played += 1
        self.totals = add_game(self.totals, plan)

    # ----------------------------------------------------------------- orders
    def submit(self, player_id: str, kind: OrderKind, data: Any) -> Submission:
        """Take an order from ``player_id``: answer now or queue it for the next tick."""
        order_id = self.desk.next_order_id()
        p = self.players.get(player_id)
        if p is None:
            return self._refuse(order_id, kind, "unknown_player", player_id)
        received = self.tick if self.phase == Phase.ACTIVE else None
        order = parse_order(kind, data, order_id, received)
        if isinstance(order, OrderError):
            self.bad_orders += 1
            return self._refuse(order_id, kind, "bad_request", order.detail)
        admission = admit(self.phase, kind)
        if isinstance(admission, MatchReject):
            return self._refuse(order_id, kind, str(admission.reason), admission.detail)
        static = precheck(order)
        if static is not None:
            return self._refuse(order_id, kind, str(static.reason), static.detail)
        if kind == OrderKind.SIDEBET:
            p.coin_address = data.get("coinAddress") or DEFAULT_COIN_ADDRESS
        if admission == Admission.NOW:
            before = p.account
            outcome = fill_presale(p.account, order)
            ack, emits = self._outcome(p, order, outcome, PRESALE_PRICE)
            if p.account != before:
                emits.extend(self.desk.account_events(p, self.plan.game_id, PRESALE_PRICE, before))
            return Submission(order_id, ack, tuple(emits))
        self._pending.append((player_id, order))
        return Submission(order_id, None)

    def _refuse(self, order_id: str, kind: OrderKind, reason: str, detail: str) -> Submission:
        return Submission(order_id, self.desk.refuse(order_id, kind, reason, detail))

    def _outcome(
        self, p: Player, order: PendingOrder, outcome: Outcome, price: float
    ) -> tuple[dict[str, Any], list[Output]]:
        return self.desk.outcome(p, order, outcome, price, self.plan.game_id, self.now_ms)

    def _match(self, tick: int, price: float, rugged: bool) -> list[Output]:
        """Settle and fill every account touched by this tick (the shared matching rule)."""
        queued: dict[str, list[PendingOrder]] = {}
        for pid, order in self._pending:
            queued.setdefault(pid, []).append(order)
        self._pending = []
        touched = list(queued)
        for pid, p in self.players.items():
            a = p.account
            if pid not in queued and (a.sidebet is not None or (rugged and a.qty > 0)):
                touched.append(pid)
        out: list[Output] = []
        for pid in touched:
            p = self.players[pid]
            before = p.account
            m = match_tick(before, queued.get(pid, ()), tick, price, rugged)
            for f in m.settlements:
                p.stats = p.stats.after(f)
            for order, outcome in m.outcomes:
                ack, emits = self._outcome(p, order, outcome, price)
                out.extend(emits)
                out.append(Ack(order.order_id, ack))
            p.account = m.account
            if m.account != before:
                out.extend(self.desk.account_events(p, self.plan.game_id, price, before,
                                                    m.settlements, self.now_ms))
        return out

    # ----------------------------------------------------------------- helpers
    def _mark_price(self) -> float | None:
        if self.phase == Phase.ACTIVE:
            return self.plan.price_at(self.tick)
        if self.phase == Phase.RUGGED:
            return self.plan.rug_price
        return None

    def _common(self, price: float | None) -> pl.Common:
        o = self.plan.outcome
        return pl.Common(
            game_id=o.game_id,
            server_seed_hash=o.server_seed_hash,
            version=o.version,
            connected=self.connected,
            leaderboard=self._leaderboard(price),
            totals=self.totals,
        )

    def _leaderboard(self, price: float | None) -> list[pl.Payload]:
        entries = [
            leaderboard_entry(p, self.plan.game_id, price, 0)
            for p in self.players.values()
            if p.stats.active
        ]
        entries.sort(key=lambda e: e["pnl"], reverse=True)
        return [{**e, "position": i + 1} for i, e in enumerate(entries[:LEADERBOARD_SIZE])]
