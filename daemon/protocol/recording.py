"""Recorded tick lines (``shared/data/real/recordings``) → ``GameUpdate``.

A recording line looks like ``{"type": "tick", "timestamp": "2025-10-29T18:36:08.376110",
"game_id": "20251029-…", "tick": 347, "price": 37.16, "phase": "ACTIVE_GAMEPLAY",
"active": true, "rugged": false, "cooldown_timer": 0, "trade_count": 799}``.

``phase`` strings vary (UNKNOWN for the settlement part of the cooldown, PRESALE,
GAME_ACTIVATION, ACTIVE_GAMEPLAY, RUG_EVENT_1); the machine derives the phase from
``active``/``rugged``/``cooldown_timer`` like for the live feed. The lines carry no
``allowPreRoundBuys``: it is true for a PRESALE line or, whatever the label, for an
inactive line with ``0 < cooldown_timer <= 10000`` (the live feed's rule). Naive
timestamps are taken as UTC. Pure functions; the replay source reads the files.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from rugsd.daemon.events import GameUpdate
from rugsd.daemon.game.rules import PRESALE_MS
from rugsd.daemon.protocol.models import MAX_COOLDOWN_MS, MAX_COUNT, MAX_WIRE_TICK

_game_id_match = re.compile(r"[0-9]{8}-[0-9a-f]{16}").fullmatch


def timestamp_to_ms(value: Any) -> int | None:
    """ISO-8601 string → ms since the epoch (UTC; naive means UTC), else None."""
    if type(value) is not str or not 10 <= len(value) <= 40:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return round(dt.timestamp() * 1000)


def _number(v: Any) -> float | None:
    if type(v) is float:
        return v if 0.0 <= v < math.inf else None
    if type(v) is int:
        return float(v) if 0 <= v <= 2**53 else None
    return None


def tick_line_reason(obj: Any) -> str | GameUpdate:
    """The ``GameUpdate`` of a usable tick line, else a short reason code (for counters)."""
    if type(obj) is not dict:
        return "not_object"
    if obj.get("type") != "tick":
        return "not_tick"
    gid = obj.get("game_id")
    if type(gid) is not str or _game_id_match(gid) is None:
        return "game_id"
    ts_ms = timestamp_to_ms(obj.get("timestamp"))
    if ts_ms is None:
        return "timestamp"
    active, rugged = obj.get("active"), obj.get("rugged")
    if type(active) is not bool or type(rugged) is not bool:
        return "flags"
    cooldown = obj.get("cooldown_timer", 0)
    if type(cooldown) is not int or not 0 <= cooldown <= MAX_COOLDOWN_MS:
        return "cooldown_timer"
    tick = obj.get("tick")
    if type(tick) is not int or not 0 <= tick <= MAX_WIRE_TICK:
        return "tick"
    price = _number(obj.get("price"))
    if price is None:
        return "price"
    trades = obj.get("trade_count")
    if trades is not None and (type(trades) is not int or not 0 <= trades <= MAX_COUNT):
        return "trade_count"
    phase = obj.get("phase")
    allow = not active and (phase == "PRESALE" or 0 < cooldown <= PRESALE_MS)
    return GameUpdate(
        ts_ms=ts_ms,
        game_id=gid,
        active=active,
        rugged=rugged,
        cooldown_ms=cooldown,
        allow_prebuys=allow,
        price=price,
        tick=tick,
        trade_count=trades,
    )


def tick_line_to_update(obj: Any) -> GameUpdate | None:
    """The ``GameUpdate`` of a recorded tick line; None for anything unusable
    (other line types, missing or ill-typed fields, bad timestamp)."""
    result = tick_line_reason(obj)
    return result if type(result) is GameUpdate else None
