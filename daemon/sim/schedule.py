"""The simulator's deterministic game schedule: seeds, ids, rug prices and step timing.

Everything random in the simulator is derived from one session seed string with SHA-256,
so two runs with the same seed emit the same games, trade ids and trace ids:

- game ``n``'s server seed is ``sha256(f"{seed}:{n}")`` (64 hex), its id
  ``YYYYMMDD-<16 hex of sha256(f"{seed}:{n}:id")>`` (the date is the game's start in
  virtual time, which in seeded mode starts at a fixed epoch), its prices come from
  ``engine.generate_game`` and its rug price from ``engine.rug_price`` with ``u`` taken
  from ``sha256(f"{seed}:{n}:rug")``, independent of anything the players do.

Timing of one game cycle, in virtual (unscaled) milliseconds from the cycle start ``C``:

- cooldown step ``k`` = 0..149 at ``C + 100 k`` with ``cooldownTimer = 15000 - 100 k``
  (settlement while the timer is > 10000, presale from 10000 down to 100; no event with
  timer 0);
- tick ``i`` = 0..rug_tick-1 at ``C + 15000 + 250 i``; the rug (tick ``rug_tick``) follows
  one tick later;
- a post-rug event (same game, seed not yet revealed, like the real feed's final event)
  ``POSTRUG_DELAY_MS`` after the rug, and the next cycle starts ``NEXT_CYCLE_DELAY_MS``
  after the rug.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from rugsd.daemon.game import engine
from rugsd.daemon.game.rules import COOLDOWN_MS, COOLDOWN_STEP_MS, PRESALE_MS, TICK_MS

# 2026-01-01T00:00:00Z: virtual time starts here in seeded (deterministic) mode.
DETERMINISTIC_EPOCH_MS = 1_767_225_600_000
COOLDOWN_STEPS = COOLDOWN_MS // COOLDOWN_STEP_MS  # 150 events: 15000 .. 100
PRESALE_FIRST_STEP = (COOLDOWN_MS - PRESALE_MS) // COOLDOWN_STEP_MS  # step 50: timer 10000
POSTRUG_DELAY_MS = TICK_MS
NEXT_CYCLE_DELAY_MS = 2 * TICK_MS


class StepKind(StrEnum):
    """What a scheduled step emits."""

    COOLDOWN = "cooldown"
    TICK = "tick"
    RUG = "rug"
    POSTRUG = "postrug"


@dataclass(frozen=True, slots=True)
class Step:
    """One scheduled emission: its kind, index (cooldown step or tick) and virtual time."""

    kind: StepKind
    index: int
    at_ms: int


@dataclass(frozen=True, slots=True)
class GamePlan:
    """Everything the seed decides about game ``number`` before it is played."""

    number: int
    outcome: engine.GameOutcome
    rug_price: float
    start_ms: int  # virtual time of the cycle's first cooldown event

    @property
    def game_id(self) -> str:
        """The game id, ``YYYYMMDD-<16 hex>``."""
        return self.outcome.game_id

    @property
    def rug_tick(self) -> int:
        """Tick of the rug event (index of the rug price in the full price array)."""
        return self.outcome.rug_tick

    def price_at(self, tick: int) -> float:
        """The price emitted at ``tick`` (the rug price at ``rug_tick``)."""
        if tick == self.outcome.rug_tick:
            return self.rug_price
        return self.outcome.prices[tick]

    def full_prices(self) -> list[float]:
        """The game's ``prices`` array as published in ``gameHistory`` (rug price last)."""
        return [*self.outcome.prices, self.rug_price]

    def tick_ms(self, tick: int) -> int:
        """Virtual time of tick ``tick`` (the rug is tick ``rug_tick``)."""
        return self.start_ms + COOLDOWN_MS + TICK_MS * tick

    @property
    def rug_ms(self) -> int:
        """Virtual time of the rug event."""
        return self.tick_ms(self.outcome.rug_tick)

    @property
    def next_start_ms(self) -> int:
        """Virtual time at which the next cycle starts."""
        return self.rug_ms + NEXT_CYCLE_DELAY_MS


def _digest(seed: str, *parts: object) -> bytes:
    return hashlib.sha256(":".join([seed, *map(str, parts)]).encode()).digest()


def server_seed_for(seed: str, number: int) -> str:
    """Server seed of game ``number``: 64 hex characters."""
    return _digest(seed, number).hex()


def game_id_for(seed: str, number: int, start_ms: int) -> str:
    """Game id ``YYYYMMDD-<16 hex>``; the date is the game's start in virtual time (UTC)."""
    day = datetime.fromtimestamp(start_ms / 1000, tz=UTC).strftime("%Y%m%d")
    return f"{day}-{_digest(seed, number, 'id').hex()[:16]}"


def unit_for(seed: str, *parts: object) -> float:
    """A uniform float in [0, 1) derived from the seed (53 bits of a SHA-256 digest)."""
    return (int.from_bytes(_digest(seed, *parts)[:8], "big") >> 11) / float(1 << 53)


def plan_game(seed: str, number: int, start_ms: int, version: str) -> GamePlan:
    """Plan game ``number`` of the session: ids, prices and rug price, all from ``seed``."""
    outcome = engine.generate_game(
        server_seed_for(seed, number), game_id_for(seed, number, start_ms), version
    )
    rug = engine.rug_price(outcome.prices[-1], unit_for(seed, number, "rug"))
    return GamePlan(number=number, outcome=outcome, rug_price=rug, start_ms=start_ms)


def uuid_for(seed: str, kind: str, counter: int) -> str:
    """A deterministic UUID-4-shaped id (trades, sidebets, orders)."""
    return str(uuid.UUID(bytes=_digest(seed, kind, counter)[:16], version=4))


def traceparent_for(seed: str, counter: int) -> str:
    """A W3C ``traceparent`` like the real feed's: ``00-<32 hex>-<16 hex>-01``."""
    h = _digest(seed, "trace", counter).hex()
    return f"00-{h[:32]}-{h[32:48]}-01"


def first_step(plan: GamePlan) -> Step:
    """The first step of a game cycle: cooldown step 0 (timer 15000)."""
    return Step(StepKind.COOLDOWN, 0, plan.start_ms)


def next_step(plan: GamePlan, step: Step) -> Step | None:
    """The step after ``step`` within ``plan``'s cycle; None when the cycle is over."""
    if step.kind == StepKind.COOLDOWN:
        if step.index + 1 < COOLDOWN_STEPS:
            return Step(StepKind.COOLDOWN, step.index + 1, step.at_ms + COOLDOWN_STEP_MS)
        return _tick_step(plan, 0)
    if step.kind == StepKind.TICK:
        return _tick_step(plan, step.index + 1)
    if step.kind == StepKind.RUG:
        return Step(StepKind.POSTRUG, step.index, plan.rug_ms + POSTRUG_DELAY_MS)
    return None


def _tick_step(plan: GamePlan, tick: int) -> Step:
    kind = StepKind.RUG if tick == plan.rug_tick else StepKind.TICK
    return Step(kind, tick, plan.tick_ms(tick))


def cooldown_timer(step_index: int) -> int:
    """``cooldownTimer`` of cooldown step ``step_index`` (15000 at step 0, 100 at 149)."""
    return COOLDOWN_MS - COOLDOWN_STEP_MS * step_index
