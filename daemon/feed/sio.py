"""python-socketio's ``AsyncClient`` with two of the feed's rules inside its own code paths.

- ``connect`` tries the transports in order, each alone (websocket, then polling), and
  leaves the *whole* list in ``connection_transports``: python-socketio's automatic
  reconnects reuse that list, so each reconnect tries websocket first again instead of
  staying on the transport the last fallback ended on (a 27 s reconnect on polling, 0.4 s
  on websocket).
- A frame it cannot decode or dispatch (bad JSON, unknown packet type, an event that is
  not a list) would only be logged by python-socketio's silenced logger: it is counted by
  reason through ``on_bad_frame`` and dropped.
- One level down, python-engineio ends the whole connection on a websocket text frame
  that is not an Engine.IO packet (empty, or not starting with a packet type) and only
  logs one of an unknown packet type; a frame over the websocket size limit ends the
  connection inside aiohttp. None of them was counted. The websocket is wrapped
  (``_CountedFrames``): a text frame that is not an Engine.IO packet is counted
  (``eio_undecodable``, ``eio_unknown_packet_type``) and dropped, the connection goes on;
  a frame too large is counted (``too_large``) and the connection drops and reconnects.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
from collections.abc import Callable
from typing import Any

import engineio
import socketio
from aiohttp import WSCloseCode, WSMsgType

EIO_TYPES = "0123456"  # open, close, ping, pong, message, upgrade, noop


def _frame_reason(err: Exception) -> str:
    """Why python-socketio could not take a frame, as a short stable reason code."""
    if isinstance(err, ValueError) and "packet type" in str(err):
        return "unknown_packet_type"
    if isinstance(err, ValueError):
        return "undecodable"  # bad JSON, bad attachment count, malformed header
    return "bad_event"  # decoded, but not an event list (IndexError / KeyError / TypeError)


def eio_frame_problem(text: str) -> str | None:
    """Why a websocket text frame is not an Engine.IO packet (None when it is one).

    Mirrors what ``engineio.packet.Packet.decode`` refuses, in O(1) for packets (only a
    base64 ``b`` frame is decoded): after a known type character nothing else can fail.
    """
    if not text:
        return "eio_undecodable"
    head = text[0]
    if head in EIO_TYPES:
        return None
    if head == "b":
        try:
            base64.b64decode(text[1:], validate=True)
        except (binascii.Error, ValueError):
            return "eio_undecodable"
        return None
    return "eio_unknown_packet_type" if head.isdigit() else "eio_undecodable"


class _CountedFrames:
    """The engine.io client's aiohttp websocket, with bad frames counted (module doc)."""

    def __init__(self, ws: Any, on_bad_frame: Callable[[str, str], None]) -> None:
        self._ws = ws
        self._on_bad_frame = on_bad_frame

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)

    async def receive(self, *args: Any, **kwargs: Any) -> Any:
        while True:
            msg = await self._ws.receive(*args, **kwargs)
            if msg.type is WSMsgType.TEXT:
                problem = eio_frame_problem(msg.data)
                if problem is None:
                    return msg
                self._on_bad_frame(problem, f"text frame {msg.data[:60]!r}")
                continue  # dropped: the connection goes on
            if msg.type is WSMsgType.ERROR:  # the connection is over (engine.io aborts)
                code = getattr(msg.data, "code", None)
                reason = "too_large" if code == WSCloseCode.MESSAGE_TOO_BIG else "ws_error"
                self._on_bad_frame(reason, f"{type(msg.data).__name__}: {msg.data}"[:200])
            return msg


class _EioClient(engineio.AsyncClient):
    """``engineio.AsyncClient`` whose websocket counts bad frames (``_CountedFrames``)."""

    on_bad_frame: Callable[[str, str], None] | None = None

    async def _connect_websocket(self, *args: Any, **kwargs: Any) -> bool:
        connected = await super()._connect_websocket(*args, **kwargs)
        ws = getattr(self, "ws", None)
        if connected and self.on_bad_frame is not None and ws is not None \
                and not isinstance(ws, _CountedFrames):
            # the read loop task starts after this returns: it reads through the wrapper
            self.ws = _CountedFrames(ws, self.on_bad_frame)
        return connected

    async def _receive_packet(self, pkt: Any) -> None:
        if pkt.packet_type >= len(EIO_TYPES) and self.on_bad_frame is not None:
            self.on_bad_frame("eio_unknown_packet_type", f"packet type {pkt.packet_type}")
            return  # engine.io would only log it (polling; websocket drops it earlier)
        await super()._receive_packet(pkt)


class SioClient(socketio.AsyncClient):
    """``socketio.AsyncClient`` with websocket-first reconnects and counted bad frames."""

    def __init__(self, *args: Any, on_bad_frame: Callable[[str, str], None],
                 on_connect_failed: Callable[[str, str], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_bad_frame = on_bad_frame
        self._on_connect_failed = on_connect_failed
        self.eio.on_bad_frame = on_bad_frame

    def _engineio_client_class(self) -> type[engineio.AsyncClient]:
        return _EioClient

    async def connect(self, url: str, *args: Any, transports: Any = None,
                      **kwargs: Any) -> None:
        order = list(transports or ("websocket", "polling"))
        try:
            for i, transport in enumerate(order):
                try:
                    await super().connect(url, *args, transports=[transport], **kwargs)
                except Exception as err:
                    self._on_connect_failed(transport, str(err)[:200])
                    with contextlib.suppress(Exception):
                        await self.disconnect()
                    if i == len(order) - 1:
                        raise
                    continue
                return
        finally:
            # python-socketio reconnects with ``connection_transports``: the whole list,
            # so the next attempt starts at the top again (websocket first)
            self.connection_transports = order

    async def _handle_eio_message(self, data: Any) -> None:
        try:
            await super()._handle_eio_message(data)
        except Exception as err:  # noqa: BLE001 - a bad frame is bad input: count, drop
            self._binary_packet = None
            self._on_bad_frame(_frame_reason(err), f"{type(err).__name__}: {err}"[:200])

    @property
    def reconnecting(self) -> bool:
        """python-socketio is reconnecting by itself (after a transport error)."""
        return self._reconnect_task is not None

    async def end_session(self) -> None:
        """The session is over and python-socketio will not retry: stop engine.io's loops
        now instead of waiting for a polling long-poll to time out."""
        eio = self.eio
        if eio.state != "disconnected":
            return
        loops = [t for t in (eio.read_loop_task, eio.write_loop_task)
                 if t is not None and not t.done()]
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
