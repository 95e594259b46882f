"""A game → the ``GameUpdate`` stream the decision core sees for it, at the real cadence.

A game for training and evaluation is a ``GameSpec``: its active-tick prices (tick 0 =
1.0, no rug price), the rug price and the receive time of tick 0. ``game_events`` gives
the events the daemon's core receives for it:

- a **recorded** game (``spec.events``, kept by ``rugsd.training.dataset`` from the
  recording) replays exactly the recorded updates — receive times, repeats, the
  recording's own gaps — so training sees what ``rugsd replay`` feeds the core; its
  ``spec.recent`` are the finished games the replaying state machine knew at that game
  (``seed_core`` gives them to a fresh core);
- any other game (simulated, the daemon's dataset) gets the events the simulator's room
  (``rugsd.daemon.sim.room``) emits for that price path, on the simulator's own
  schedule (``rugsd.daemon.sim.schedule``, followed step by step): 150 cooldown updates
  100 ms apart (``cooldownTimer`` 15000 → 100; the first carries ``gameHistory``, the
  previous games newest first; presale from 10000, so the core decides once per 250 ms
  of countdown: 41 presale decisions), one update per tick 250 ms apart, the rug
  (``rugged: true``, still ``active``) at tick ``R`` and the post-rug repeat (with the
  ``gameHistory`` again, as the room's final event). A test
  replays the room itself and checks that the core decides, fills and journals the same
  on both streams.

There is no shortened presale any more: the policy is trained on the cadence it trades
at (schema 1 trained on 4 synthetic presale updates, the daemon decides ≈ 41 times).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from rugsd.daemon.events import FinishedGame, GameUpdate
from rugsd.daemon.game.engine import GameOutcome
from rugsd.daemon.game.rules import COOLDOWN_MS, PRESALE_MS, TICK_MS
from rugsd.daemon.sim.schedule import (
    NEXT_CYCLE_DELAY_MS,
    GamePlan,
    StepKind,
    cooldown_timer,
    first_step,
    next_step,
)
from rugsd.daemon.state.view import GameSummary

HISTORY_SIZE = 10


def _presale_decision_timers() -> tuple[int, ...]:
    """The ``cooldownTimer`` values at which the core decides in a simulated presale:
    the first update of each 250 ms slot of countdown (``DecisionCore``'s rule)."""
    out, slot = [], None
    for timer in range(PRESALE_MS, 0, -100):
        if timer // TICK_MS != slot:
            out.append(timer)
            slot = timer // TICK_MS
    return tuple(out)


PRESALE_DECISION_TIMERS: tuple[int, ...] = _presale_decision_timers()
"""Presale decision points of a simulated game (41: 10000, 9900, 9700, … 200)."""


@dataclass(frozen=True, slots=True, eq=False)
class GameSpec:
    """One complete game. ``prices[t]`` is the price at active tick ``t`` (float64);
    ``rug_tick == len(prices)``; ``start_ms`` the receive time of tick 0; ``source``
    says where it came from (``sim`` | ``recording`` | ``dataset`` | ``human``).
    A recorded game keeps its recorded ``events`` and the ``recent`` games the replay
    knew when it started (see the module docstring)."""

    game_id: str
    prices: np.ndarray
    rug_price: float
    start_ms: int
    source: str = "sim"
    events: tuple[GameUpdate, ...] | None = None
    recent: tuple[GameSummary, ...] = ()

    @property
    def rug_tick(self) -> int:
        """The tick of the rug event (= number of active ticks)."""
        return int(self.prices.shape[0])

    @property
    def peak(self) -> float:
        """Highest active price."""
        return float(np.max(self.prices))

    @property
    def end_ms(self) -> int:
        """Receive time of the rug event."""
        return self.start_ms + self.rug_tick * TICK_MS

    @property
    def real(self) -> bool:
        """A game that happened on the venue (not generated)."""
        return self.source in ("recording", "dataset")


def finished_game(spec: GameSpec) -> FinishedGame:
    """The ``gameHistory`` entry of ``spec`` (prices incl. the rug price; no seed)."""
    full = (*spec.prices.tolist(), float(spec.rug_price))
    return FinishedGame(
        game_id=spec.game_id,
        timestamp_ms=spec.end_ms,
        peak=spec.peak,
        rugged=True,
        version="v3",
        prices=full,
        server_seed=None,
        server_seed_hash=None,
    )


def history_for(previous: Sequence[GameSpec]) -> tuple[FinishedGame, ...]:
    """``gameHistory`` after ``previous`` (oldest first in): the last 10, newest first."""
    return tuple(finished_game(g) for g in reversed(list(previous)[-HISTORY_SIZE:]))


def _plan(spec: GameSpec) -> GamePlan:
    """The simulator's plan for ``spec``'s price path (its cycle starts 15 s before tick 0)."""
    prices = tuple(spec.prices.tolist())
    outcome = GameOutcome(spec.game_id, "v3", "", "", prices, len(prices), spec.peak, ())
    return GamePlan(0, outcome, float(spec.rug_price), spec.start_ms - COOLDOWN_MS)


def game_events(spec: GameSpec, history: tuple[FinishedGame, ...] = ()) -> list[GameUpdate]:
    """The update stream of one game (recorded, or the simulator's; see the docstring)."""
    if spec.events is not None:
        return list(spec.events)
    gid = spec.game_id
    plan = _plan(spec)
    prices = plan.outcome.prices
    rug_price = plan.rug_price
    rug_tick = plan.rug_tick
    events: list[GameUpdate] = []
    step = first_step(plan)
    while step is not None:
        kind, at = step.kind, step.at_ms
        if kind is StepKind.COOLDOWN:
            timer = cooldown_timer(step.index)
            events.append(GameUpdate(ts_ms=at, game_id=gid, active=False, rugged=False,
                                     cooldown_ms=timer, allow_prebuys=timer <= PRESALE_MS,
                                     history=history if step.index == 0 else ()))
        elif kind is StepKind.TICK:
            events.append(GameUpdate(ts_ms=at, game_id=gid, active=True, rugged=False,
                                     cooldown_ms=0, price=prices[step.index], tick=step.index))
        else:  # the rug, then its post-rug repeat (which carries the history again)
            events.append(GameUpdate(ts_ms=at, game_id=gid, active=True, rugged=True,
                                     cooldown_ms=0, price=rug_price, tick=rug_tick,
                                     history=history if kind is StepKind.POSTRUG else ()))
        step = next_step(plan, step)
    return events


def session_events(games: Sequence[GameSpec]) -> Iterator[GameUpdate]:
    """One continuous session over ``games`` (in order), as the simulator or a recording
    feeds the daemon: each simulated game's history is the games before it."""
    for i, spec in enumerate(games):
        yield from game_events(spec, history_for(games[max(0, i - HISTORY_SIZE) : i]))


def seed_core(core, spec: GameSpec) -> None:
    """Give a fresh core the finished games a replay knew when ``spec`` started."""
    if spec.recent:
        core.machine.seed_recent(spec.recent)


def decision_count(spec: GameSpec) -> int:
    """How many times the core decides in a simulated game (presale + active ticks)."""
    return len(PRESALE_DECISION_TIMERS) + spec.rug_tick


def next_start_ms(spec: GameSpec) -> int:
    """When the simulator starts the game after ``spec`` (its tick 0, receive time)."""
    return spec.end_ms + NEXT_CYCLE_DELAY_MS + COOLDOWN_MS
