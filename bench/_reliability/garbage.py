"""The hostile feed's garbage: every kind of frame a broken or malicious venue (or proxy)
could put between the real events, each with the counter it must land in.

A kind builds its frame(s) from the last real ``gameStateUpdate`` the server relayed —
the daemon sees frames in the order they are sent, so that update's game is the game the
daemon tracks when the garbage arrives, and each expectation is exact:

- ``expect`` is the key of ``rejected_by_reason`` (``rugsd status --json``,
  ``rugsd_feed_rejected_total{reason}``) the frame must add exactly 1 to, as documented in
  docs/reliability.md and docs/control-protocol.md;
- ``None`` for the two kinds that are ignored by design and counted nowhere: an unknown
  event name (the real feed sends many events rugsd does not read) and an event name that
  is not a string (python-socketio hands it on as an unknown event).

``too_large`` (a 10 MB frame) also drops the connection (aiohttp's 4 MiB limit): the
probe sends it on its own and waits for the reconnect.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

GSU = "gameStateUpdate"
FAKE_PREFIX = "20260101-dead"  # game ids no simulator makes (its ids are hashes)


@dataclass(frozen=True, slots=True)
class Garbage:
    """One hostile input: its frames (a binary event is a header and an attachment)."""

    kind: str
    frames: tuple[str | bytes, ...]
    expect: str | None


def _event(name: str, *args: Any) -> str:
    # json.dumps writes NaN / Infinity literals, which python-socketio's decoder accepts
    return "42" + json.dumps([name, *args], separators=(",", ":"))


def _active_copy(last: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The last real update of the tracked game, as an active tick, with ``changes``."""
    base = {"gameId": last["gameId"], "active": True, "rugged": False,
            "tickCount": int(last.get("tickCount") or 0), "price": last.get("price") or 1.0,
            "cooldownTimer": 0, "allowPreRoundBuys": False}
    return {**base, **changes}


def _fake_id(rng: random.Random) -> str:
    return f"{FAKE_PREFIX}{rng.getrandbits(48):012x}"


def _rugged(last: dict[str, Any]) -> bool:
    return bool(last.get("rugged"))


def _binary_junk(rng: random.Random) -> bytes:
    """A binary frame of random bytes. The first one is not an ASCII digit: python-socketio
    reads a leading digit byte as a packet type, and what follows then decides the reason
    (a lone ``b"2"`` is an event without a list) — random, so not countable exactly."""
    return bytes([rng.randint(0x80, 0xFF)]) + rng.randbytes(rng.randint(0, 63))


Builder = Callable[[dict[str, Any], random.Random], tuple[tuple[str | bytes, ...], str | None]]


def _one(frame: str | bytes, expect: str | None) -> tuple[tuple[str | bytes, ...], str | None]:
    return (frame,), expect


def _parse(field: str, why: str) -> str:
    return f"parse:{GSU}:{field}:{why}"


def _fake_game(last: dict[str, Any], rng: random.Random):
    """An active tick, a presale or (before the tracked game's rug) a cooldown update of a
    game id nobody announced: ``other_game`` (docs/reliability.md, one game at a time).
    After the rug a next game's first sight is its cooldown, so a fake cooldown there is
    believed by design — it is not sent then."""
    gid = _fake_id(rng)
    shapes = ["active", "presale"] if _rugged(last) else ["active", "presale", "cooldown"]
    shape = rng.choice(shapes)
    if shape == "active":
        payload = _active_copy(last, gameId=gid, tickCount=rng.randint(1, 30),
                               price=round(rng.uniform(0.5, 2.0), 6))
    else:
        timer = rng.randint(1000, 9900) if shape == "presale" else rng.randint(10100, 15000)
        payload = {"gameId": gid, "active": False, "rugged": False, "tickCount": 0,
                   "price": 1.0, "cooldownTimer": timer,
                   "allowPreRoundBuys": shape == "presale"}
    return _one(_event(GSU, payload), "implausible:other_game")


KINDS: dict[str, tuple[int, Builder]] = {
    # -- Socket.IO packets that do not decode or are not events -------------------------
    "sio_cut_json": (4, lambda last, rng: _one(
        _event(GSU, _active_copy(last))[: rng.randint(5, 40)], "frame:undecodable")),
    "sio_unknown_packet_type": (2, lambda last, rng: _one(
        "4" + rng.choice("789") + '["x",{}]', "frame:unknown_packet_type")),
    "sio_not_a_list": (2, lambda last, rng: _one('42{"gameId":"x"}', "frame:bad_event")),
    "sio_empty_event": (2, lambda last, rng: _one("42[]", "frame:bad_event")),
    "binary_frame": (3, lambda last, rng: _one(_binary_junk(rng), "frame:undecodable")),
    "binary_event": (2, lambda last, rng: (
        ('451-["gameStateUpdate",{"_placeholder":true,"num":0}]', rng.randbytes(16)),
        f"parse:{GSU}:not_object")),
    # -- websocket text frames that are no Engine.IO packet -----------------------------
    "eio_empty": (1, lambda last, rng: _one("", "frame:eio_undecodable")),
    "eio_no_type": (2, lambda last, rng: _one("x" + rng.randbytes(8).hex(),
                                              "frame:eio_undecodable")),
    "eio_unknown_type": (2, lambda last, rng: _one(rng.choice("789") + "{}",
                                                   "frame:eio_unknown_packet_type")),
    "eio_bad_base64": (1, lambda last, rng: _one("b%%%" + rng.randbytes(4).hex(),
                                                 "frame:eio_undecodable")),
    # -- absurd values for the game being played -----------------------------------------
    "price_1e9": (4, lambda last, rng: _one(_event(GSU, _active_copy(last, price=1e9)),
                                            "implausible:price_above_max")),
    "price_1e300": (4, lambda last, rng: _one(_event(GSU, _active_copy(last, price=1e300)),
                                              "implausible:price_above_max")),
    "price_zero": (2, lambda last, rng: _one(_event(GSU, _active_copy(last, price=0.0)),
                                             "implausible:price_not_positive")),
    "price_nan": (3, lambda last, rng: _one(_event(GSU, _active_copy(last, price=math.nan)),
                                            _parse("price", "finite_number"))),
    "price_infinite": (2, lambda last, rng: _one(
        _event(GSU, _active_copy(last, price=rng.choice([math.inf, -math.inf]))),
        _parse("price", "finite_number"))),
    "price_negative": (3, lambda last, rng: _one(
        _event(GSU, _active_copy(last, price=-rng.uniform(0.001, 1e6))),
        _parse("price", "greater_than_equal"))),
    "tick_huge": (3, lambda last, rng: _one(
        _event(GSU, _active_copy(last, tickCount=rng.choice([10**7, 10**12, 2**62]))),
        _parse("tickCount", "less_than_equal"))),
    "tick_past_the_cap": (2, lambda last, rng: _one(
        _event(GSU, _active_copy(last, tickCount=rng.randint(5002, 6000))),
        "implausible:tick_out_of_range")),
    "tick_negative": (2, lambda last, rng: _one(
        _event(GSU, _active_copy(last, tickCount=-rng.randint(1, 10**6))),
        _parse("tickCount", "greater_than_equal"))),
    "fake_rug": (4, lambda last, rng: _one(
        _event(GSU, _active_copy(last, gameId=_fake_id(rng), rugged=True,
                                 price=rng.choice([0.0, 0.001, 0.0123]))),
        "implausible:rug_other_game")),
    "fake_game": (4, _fake_game),
    # -- wrong types -----------------------------------------------------------------------
    "price_string": (2, lambda last, rng: _one(_event(GSU, _active_copy(last, price="1.5")),
                                               _parse("price", "float_type"))),
    "tick_string": (2, lambda last, rng: _one(_event(GSU, _active_copy(last, tickCount="7")),
                                              _parse("tickCount", "int_type"))),
    "active_string": (1, lambda last, rng: _one(_event(GSU, _active_copy(last, active="yes")),
                                                _parse("active", "bool_type"))),
    "game_id_number": (2, lambda last, rng: _one(_event(GSU, _active_copy(last, gameId=12345)),
                                                 _parse("gameId", "string_type"))),
    "payload_not_object": (3, lambda last, rng: _one(
        _event(GSU, rng.choice(["hello", None, [1, 2], 42, True])),
        f"parse:{GSU}:not_object")),
    "player_update_negative": (2, lambda last, rng: _one(
        _event("playerUpdate", {"cash": 1.0, "positionQty": -rng.uniform(1, 1e12)}),
        "parse:playerUpdate:positionQty:greater_than_equal")),
    # -- ignored by design ------------------------------------------------------------------
    "unknown_event": (1, lambda last, rng: _one(_event("zzNotAnEvent", {"price": 1e300}), None)),
    "event_name_not_string": (1, lambda last, rng: _one("42[123,{}]", None)),
}

HUGE = "too_large"  # sent on its own by the probe (the connection drops)
HUGE_BYTES = 10 * 1024 * 1024


def huge_frame(last: dict[str, Any]) -> Garbage:
    """A 10 MB frame: over the websocket limit, the client drops the connection."""
    junk = "x" * HUGE_BYTES
    return Garbage(HUGE, (_event(GSU, _active_copy(last, junk=junk)),), "frame:too_large")


class GarbageMaker:
    """Draws garbage kinds by weight (seeded: a run is reproducible)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.names = list(KINDS)
        self.weights = [KINDS[n][0] for n in self.names]

    def make(self, last: dict[str, Any]) -> Garbage:
        """One garbage input built after the real update ``last``."""
        kind = self.rng.choices(self.names, self.weights)[0]
        frames, expect = KINDS[kind][1](last, self.rng)
        return Garbage(kind, frames, expect)
