"""``EventParser``: Socket.IO ``(event name, *args)`` → internal event, never raising.

Every call is counted exactly once, by event name, as

- *accepted* — converted to an ``Event`` (``gameStateUpdate`` → ``GameUpdate``,
  ``standard/newTrade`` → ``TradeEvent``, ``newSideBet``/``currentSidebet``/
  ``currentSidebetResult`` → ``SidebetEvent``, ``playerUpdate`` → ``PlayerUpdate``);
- *ignored* — an event the daemon does not use (chat, rugRoyaleUpdate, battleEventUpdate,
  ``gameStatePlayerUpdate``, which carries no cash balance so it cannot become a
  ``PlayerUpdate``…);
- *rejected* — malformed, counted by ``(event, reason)`` and logged as one line, at most
  once per reason per ``log_interval_ms`` of event time (so a flood does not spam).

An accepted ``gameStateUpdate`` whose optional blob was malformed (``partialPrices``,
``prices``, a ``gameHistory`` entry, ``provablyFair``) keeps its tick; the dropped blob is
counted under *degraded*.

Handlers receive ``*args``; the payload is ``args[-1]`` (the first argument may be a
trace object ``{"__trace": true, "traceparent": …}``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

import structlog
from pydantic import ValidationError

from rugsd.daemon.events import Event
from rugsd.daemon.protocol.fastpath import fast_game_update
from rugsd.daemon.protocol.models import (
    error_reason,
    game_update_from_wire,
    player_update_from_wire,
    sidebet_from_wire,
    trade_from_wire,
)

log = structlog.get_logger(__name__)

MAX_NAMES = 100  # distinct event names / reasons tracked; beyond that they share a bucket
OTHER = "<other>"


class Reject(StrEnum):
    """Structural rejection reasons (validation errors add ``field:error_type`` codes)."""

    NO_ARGS = "no_args"
    NOT_OBJECT = "not_object"
    INTERNAL = "internal_error"


_Handler = Callable[[dict[str, Any], int, list[str]], Event]


def _game_state(payload: dict[str, Any], ts_ms: int, notes: list[str]) -> Event:
    fast = fast_game_update(payload, ts_ms)
    return fast if fast is not None else game_update_from_wire(payload, ts_ms, notes)


def _trade(payload: dict[str, Any], ts_ms: int, notes: list[str]) -> Event:
    return trade_from_wire(payload, ts_ms)


def _sidebet(payload: dict[str, Any], ts_ms: int, notes: list[str]) -> Event:
    return sidebet_from_wire(payload, ts_ms)


def _sidebet_result(payload: dict[str, Any], ts_ms: int, notes: list[str]) -> Event:
    return sidebet_from_wire(payload, ts_ms, result=True)


def _player(payload: dict[str, Any], ts_ms: int, notes: list[str]) -> Event:
    return player_update_from_wire(payload, ts_ms)


HANDLERS: dict[str, _Handler] = {
    "gameStateUpdate": _game_state,
    "standard/newTrade": _trade,
    "newSideBet": _sidebet,
    "currentSidebet": _sidebet,
    "currentSidebetResult": _sidebet_result,
    "playerUpdate": _player,
}


class EventParser:
    """Converts raw Socket.IO events; keeps accepted/ignored/rejected/degraded counters."""

    def __init__(self, *, log_interval_ms: int = 10_000) -> None:
        """``log_interval_ms``: minimum event-time between two log lines for one reason."""
        self._log_interval_ms = log_interval_ms
        self._accepted: dict[str, int] = {}
        self._ignored: dict[str, int] = {}
        self._rejected: dict[str, dict[str, int]] = {}
        self._degraded: dict[str, dict[str, int]] = {}
        self._last_log: dict[tuple[str, str], int] = {}
        self._suppressed: dict[tuple[str, str], int] = {}

    def parse(self, name: str, args: Sequence[Any], ts_ms: int) -> Event | None:
        """The internal event for ``name(*args)`` received at ``ts_ms``, or None.

        Never raises: unknown names are ignored, bad payloads rejected (both counted).
        """
        handler = HANDLERS.get(name) if type(name) is str else None
        if handler is None:
            self._bump(self._ignored, self._name(name))
            return None
        try:
            if type(args) is dict:  # tolerate a caller passing the payload itself
                payload: Any = args
            elif not args:
                self._reject(name, Reject.NO_ARGS, ts_ms, "")
                return None
            else:
                payload = args[-1]
            if type(payload) is not dict:
                self._reject(name, Reject.NOT_OBJECT, ts_ms, type(payload).__name__)
                return None
            notes: list[str] = []
            event = handler(payload, ts_ms, notes)
        except ValidationError as err:
            self._reject(name, error_reason(err), ts_ms, _first_msg(err))
            return None
        except ValueError as err:  # model-level rules (e.g. unknown sidebet type)
            self._reject(name, "value_error", ts_ms, str(err)[:120])
            return None
        except Exception as err:  # noqa: BLE001 - a bug must not take the feed down
            self._reject(name, Reject.INTERNAL, ts_ms, f"{type(err).__name__}: {err}"[:200])
            return None
        accepted = self._accepted
        accepted[name] = accepted.get(name, 0) + 1
        if notes:
            for reason in notes:
                self._bump(self._degraded.setdefault(name, {}), reason)
                self._log("protocol.degraded", name, reason, ts_ms, "optional field dropped")
        return event

    def stats(self) -> dict[str, Any]:
        """A plain-dict snapshot: ``accepted``/``ignored`` by event name, ``rejected``/
        ``degraded`` by event name then reason, and the ``total`` of parse calls."""
        total = (
            sum(self._accepted.values())
            + sum(self._ignored.values())
            + sum(sum(r.values()) for r in self._rejected.values())
        )
        return {
            "accepted": dict(self._accepted),
            "ignored": dict(self._ignored),
            "rejected": {k: dict(v) for k, v in self._rejected.items()},
            "degraded": {k: dict(v) for k, v in self._degraded.items()},
            "total": total,
        }

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _name(name: object) -> str:
        return name[:64] if type(name) is str else f"<{type(name).__name__}>"[:64]

    @staticmethod
    def _bump(counter: dict[str, int], key: str) -> None:
        if key not in counter and len(counter) >= MAX_NAMES:
            key = OTHER
        counter[key] = counter.get(key, 0) + 1

    def _reject(self, name: str, reason: str, ts_ms: int, detail: str) -> None:
        self._bump(self._rejected.setdefault(name, {}), str(reason))
        self._log("protocol.rejected", name, str(reason), ts_ms, detail)

    def _log(self, what: str, name: str, reason: str, ts_ms: int, detail: str) -> None:
        if type(ts_ms) is not int:
            ts_ms = 0
        key = (name, reason)
        last = self._last_log.get(key)
        if last is not None and 0 <= ts_ms - last < self._log_interval_ms:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return
        if len(self._last_log) >= 4 * MAX_NAMES and key not in self._last_log:
            self._last_log.clear()  # bounded memory; worst case a few extra log lines
        self._last_log[key] = ts_ms
        suppressed = self._suppressed.pop(key, 0)
        log.warning(what, event_name=name, reason=reason, detail=detail, suppressed=suppressed)


def _first_msg(err: ValidationError) -> str:
    first = err.errors(include_url=False, include_context=False, include_input=False)[0]
    return str(first.get("msg", ""))[:120]
