"""python-socketio's ``AsyncClient`` with two of the feed's rules inside its own code paths.

- ``connect`` tries the transports in order, each alone (websocket, then polling), and
  leaves the *whole* list in ``connection_transports``: python-socketio's automatic
  reconnects reuse that list, so each reconnect tries websocket first again instead of
  staying on the transport the last fallback ended on (a 27 s reconnect on polling, 0.4 s
  on websocket).
- A frame it cannot decode or dispatch (bad JSON, unknown packet type, an event that is
  not a list) would only be logged by python-socketio's silenced logger: it is counted by
  reason through ``on_bad_frame`` and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import socketio


def _frame_reason(err: Exception) -> str:
    """Why python-socketio could not take a frame, as a short stable reason code."""
    if isinstance(err, ValueError) and "packet type" in str(err):
        return "unknown_packet_type"
    if isinstance(err, ValueError):
        return "undecodable"  # bad JSON, bad attachment count, malformed header
    return "bad_event"  # decoded, but not an event list (IndexError / KeyError / TypeError)


class SioClient(socketio.AsyncClient):
    """``socketio.AsyncClient`` with websocket-first reconnects and counted bad frames."""

    def __init__(self, *args: Any, on_bad_frame: Callable[[str, str], None],
                 on_connect_failed: Callable[[str, str], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_bad_frame = on_bad_frame
        self._on_connect_failed = on_connect_failed

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
