"""Builders of GameUpdate values for the state-machine tests (not a test module)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rugsd.daemon.events import FinishedGame, GameUpdate
from rugsd.daemon.state.machine import GameStateMachine
from rugsd.daemon.state.transitions import Transition

GID_A = "20251207-aaaaaaaaaaaaaaaa"
GID_B = "20251207-bbbbbbbbbbbbbbbb"
GID_C = "20251207-cccccccccccccccc"


def cooldown(ms: int, gid: str = GID_A, ts: int = 0, *, allow: bool | None = None) -> GameUpdate:
    """A cooldown/presale event (presale when ``ms <= 10000`` unless ``allow`` says)."""
    return GameUpdate(
        ts_ms=ts,
        game_id=gid,
        active=False,
        rugged=False,
        cooldown_ms=ms,
        allow_prebuys=(ms <= 10000) if allow is None else allow,
    )


def tick(
    t: int,
    price: float,
    gid: str = GID_A,
    ts: int | None = None,
    *,
    partial: Iterable[tuple[int, float]] = (),
    backfill: Sequence[float] | None = None,
    history: tuple[FinishedGame, ...] = (),
) -> GameUpdate:
    """An active tick event."""
    return GameUpdate(
        ts_ms=t * 250 if ts is None else ts,
        game_id=gid,
        active=True,
        rugged=False,
        cooldown_ms=0,
        price=price,
        tick=t,
        partial_prices=tuple(partial),
        backfill=tuple(backfill) if backfill is not None else None,
        history=history,
    )


def rug(
    t: int,
    price: float,
    gid: str = GID_A,
    ts: int | None = None,
    *,
    partial: Iterable[tuple[int, float]] = (),
) -> GameUpdate:
    """The rug event (``active`` and ``rugged`` both true, as on the feed)."""
    return GameUpdate(
        ts_ms=t * 250 if ts is None else ts,
        game_id=gid,
        active=True,
        rugged=True,
        cooldown_ms=0,
        price=price,
        tick=t,
        partial_prices=tuple(partial),
    )


def finished(gid: str, prices: Sequence[float] | None, ts: int | None = None) -> FinishedGame:
    """A gameHistory entry."""
    return FinishedGame(
        game_id=gid,
        timestamp_ms=ts,
        peak=max(prices[:-1]) if prices else 1.0,
        rugged=True,
        version="v3",
        prices=tuple(prices) if prices is not None else None,
        server_seed="seed-" + gid[-4:],
        server_seed_hash="hash-" + gid[-4:],
    )


def run(machine: GameStateMachine, updates: Iterable[GameUpdate]) -> list[Transition]:
    """Apply every update; all transitions in order."""
    out: list[Transition] = []
    for update in updates:
        out.extend(machine.apply(update))
    return out


def of_type(transitions: Iterable[Transition], kind: type) -> list:
    """The transitions of one class."""
    return [t for t in transitions if isinstance(t, kind)]
