"""Decoding Engine.IO v4 / Socket.IO v5 text frames, as seen on the page's websocket.

A websocket text frame is an Engine.IO packet: one type digit (``4`` = message) and, for
messages, a Socket.IO packet: type digit (``2`` EVENT, ``3`` ACK), an optional namespace
(``/ns,``), an optional ack id (digits), then a JSON array. Examples::

    42["gameStateUpdate",{...}]          event
    42/game,["x",1]                      event on a namespace
    4217["buyOrder",{"amount":0.01}]     event with ack id 17 (sent by the page)
    4317[{"success":true}]               the ack of 17

``decode`` is pure and total: anything else (pings, binary, garbage) gives None.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class PacketKind(StrEnum):
    """The Socket.IO packets the executor cares about."""

    EVENT = "event"
    ACK = "ack"


@dataclass(frozen=True, slots=True)
class Packet:
    """One decoded Socket.IO packet: an event (``name``, ``args``) or an ack (``args``)."""

    kind: PacketKind
    name: str | None
    args: tuple[Any, ...]
    ack_id: int | None = None
    namespace: str = "/"


def decode(frame: object) -> Packet | None:
    """Decode one websocket text frame; None for anything that is not an event or ack."""
    if not isinstance(frame, str) or len(frame) < 3 or frame[0] != "4":
        return None
    kind = frame[1]
    if kind not in "23":
        return None
    i = 2
    namespace = "/"
    if i < len(frame) and frame[i] == "/":
        comma = frame.find(",", i)
        if comma < 0:
            return None
        namespace = frame[i:comma]
        i = comma + 1
    j = i
    while j < len(frame) and frame[j].isdigit() and j - i < 18:
        j += 1
    ack_id = int(frame[i:j]) if j > i else None
    try:
        data = json.loads(frame[j:])
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, list):
        return None
    if kind == "3":
        if ack_id is None:
            return None
        return Packet(PacketKind.ACK, None, tuple(data), ack_id, namespace)
    if not data or not isinstance(data[0], str):
        return None
    return Packet(PacketKind.EVENT, data[0], tuple(data[1:]), ack_id, namespace)
