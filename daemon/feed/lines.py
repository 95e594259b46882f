"""Pure decoding of one recorded line, whatever recorder wrote it.

Three line formats are recognised, per line (a file may mix them):

- **ours** (``rugsd.daemon.feed.recorder``): ``{"recv_ts_ms": int, "event": name, "args": [...]}``
  — raw Socket.IO arguments, parsed with the same ``EventParser`` as the live feed.
- **real recordings** (``shared/data/real/recordings``): ``{"type": "tick", ...}`` lines
  converted by ``rugsd.daemon.protocol.recording.tick_line_to_update``; ``game_start`` and
  ``game_end`` lines carry no tick and are counted as *meta* (neither events nor skipped).
- **raw samples** (``websocket_raw_samples.jsonl``): ``{"timestamp": iso, "event_type":
  name, "data": payload | [trace, payload]}``.

``decode_line`` never raises: every line ends as exactly one ``LineKind``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import structlog

from rugsd.daemon.events import Event

log = structlog.get_logger(__name__)

META_TYPES = frozenset({"game_start", "game_end"})

_loads = json.loads


class LineKind(StrEnum):
    """What became of one line."""

    EVENT = "event"  # an internal event was produced
    MALFORMED = "malformed"  # not valid JSON (cut, merged, binary, empty)
    SKIPPED = "skipped"  # valid JSON but unusable (unknown shape, missing fields, rejected)
    META = "meta"  # a recognised line that carries no event (game_start / game_end)


def iso_to_ms(value: str) -> int | None:
    """Epoch milliseconds of an ISO-8601 timestamp; naive times are taken as UTC."""
    try:
        dt = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return round(dt.timestamp() * 1000)


def as_ts_ms(value: Any) -> int | None:
    """A usable receive time in ms from an int/float (epoch ms) or an ISO string."""
    if type(value) is int:
        return value
    if type(value) is float and math.isfinite(value) and abs(value) < 1e16:
        return int(value)
    if isinstance(value, str):
        return iso_to_ms(value)
    return None


class LineDecoder:
    """Turns recorded lines into internal events with a parser and a tick-line converter.

    ``parse`` is ``EventParser().parse`` (name, args, ts_ms) and ``tick`` is
    ``tick_line_to_update``; both are injected so this module stays free of their
    imports (and testable on its own). Exceptions escaping either are counted as
    skipped lines, never propagated.
    """

    __slots__ = ("_parse", "_tick", "errors")

    def __init__(
        self,
        parse: Callable[[str, list[Any], int], Event | None],
        tick: Callable[[dict[str, Any]], Event | None],
    ) -> None:
        self._parse = parse
        self._tick = tick
        self.errors = 0  # exceptions raised by parse/tick (bugs elsewhere, counted here)

    def decode(self, raw: bytes | str) -> tuple[LineKind, Event | None]:
        """Classify one line and return its event when it produced one."""
        try:
            obj = _loads(raw)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            return LineKind.MALFORMED, None
        if type(obj) is not dict:
            return LineKind.SKIPPED, None
        try:
            kind = obj.get("type")
            if kind == "tick":
                event = self._tick(obj)
            elif kind in META_TYPES:
                return LineKind.META, None
            elif "event" in obj:
                event = self._ours(obj)
            elif "event_type" in obj:
                event = self._raw_sample(obj)
            else:
                return LineKind.SKIPPED, None
        except Exception as err:  # noqa: BLE001 - bad data must never stop a replay
            self.errors += 1
            log.debug("replay_line_error", error=repr(err)[:200])
            return LineKind.SKIPPED, None
        if event is None:
            return LineKind.SKIPPED, None
        return LineKind.EVENT, event

    def _ours(self, obj: dict[str, Any]) -> Event | None:
        name = obj.get("event")
        args = obj.get("args")
        ts = obj.get("recv_ts_ms")
        if type(name) is not str or type(args) is not list or type(ts) is not int:
            return None
        return self._parse(name, args, ts)

    def _raw_sample(self, obj: dict[str, Any]) -> Event | None:
        name = obj.get("event_type")
        ts = as_ts_ms(obj.get("timestamp"))
        if type(name) is not str or ts is None:
            return None
        data = obj.get("data")
        args = data if type(data) is list else [data]
        return self._parse(name, args, ts)


def first_timestamp_ms(lines: list[bytes]) -> int | None:
    """The first receive time found in a few leading lines (for ordering files)."""
    for raw in lines:
        try:
            obj = _loads(raw)
        except (ValueError, RecursionError):
            continue
        if type(obj) is not dict:
            continue
        for key in ("recv_ts_ms", "timestamp"):
            if key in obj:
                ts = as_ts_ms(obj[key])
                if ts is not None:
                    return ts
    return None
