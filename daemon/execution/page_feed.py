"""The feed as the page itself receives it: Socket.IO frames of the page's websocket.

Playwright reports every websocket frame the page sends and receives
(``page.on("websocket")`` → ``framereceived``/``framesent``). ``PageFeed`` decodes them
(``rugsd.daemon.execution.frames``) and

- parses received events with the daemon's ``EventParser`` into internal events — the
  only place where a logged-in player's ``playerUpdate`` is visible on the real site;
- pairs the page's order emits (``42<id>["buyOrder",…]``) with their acks
  (``43<id>[…]``), so a refusal by the venue is seen at once.

Bad frames are counted and dropped, never raised.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import structlog

from rugsd.daemon.events import Event
from rugsd.daemon.execution.frames import PacketKind, decode
from rugsd.daemon.protocol.parse import EventParser

log = structlog.get_logger(__name__)

ORDER_EVENTS = frozenset({"buyOrder", "sellOrder", "requestSidebet"})
MAX_OPEN_ACKS = 64

EventSink = Callable[[Event, dict[str, Any] | None], None]
AckSink = Callable[[str, int, tuple[Any, ...]], None]
SentSink = Callable[[str, int], None]


def now_ms() -> int:
    """Wall-clock receive time in ms (the edge is where clocks are read)."""
    return time.time_ns() // 1_000_000


class PageFeed:
    """Decodes one browser page's Socket.IO traffic; attach to every page you open."""

    def __init__(
        self,
        on_event: EventSink,
        on_ack: AckSink | None = None,
        on_sent: SentSink | None = None,
    ) -> None:
        """``on_event(event, raw_payload)`` per parsed event; ``on_sent(order_event, ack_id)``
        per order the page emits; ``on_ack(order_event, ack_id, args)`` per answer."""
        self.parser = EventParser()
        self._event_sink = on_event
        self._ack_sink = on_ack
        self._sent_sink = on_sent
        self.counts: Counter[str] = Counter()
        self._sent: dict[int, str] = {}

    def attach(self, page: Any) -> None:
        """Listen to the websockets ``page`` opens from now on."""
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws: Any) -> None:
        self.counts["websockets"] += 1
        ws.on("framereceived", self.on_received)
        ws.on("framesent", self.on_sent)

    def on_sent(self, payload: Any) -> None:
        """A frame the page sent: remember the ack ids of order emits."""
        pkt = decode(payload)
        if pkt is None or pkt.kind is not PacketKind.EVENT or pkt.ack_id is None:
            return
        if pkt.name in ORDER_EVENTS:
            if len(self._sent) >= MAX_OPEN_ACKS:  # acks that never came: forget the oldest
                self._sent.pop(next(iter(self._sent)))
            self._sent[pkt.ack_id] = pkt.name
            self.counts["orders_sent"] += 1
            if self._sent_sink is not None:
                self._sent_sink(pkt.name, pkt.ack_id)

    def on_received(self, payload: Any) -> None:
        """A frame the page received: events to the parser, order acks to ``on_ack``."""
        pkt = decode(payload)
        if pkt is None:
            if isinstance(payload, str) and payload[:2] == "42":
                self.counts["bad_frames"] += 1
            return
        if pkt.kind is PacketKind.ACK:
            name = self._sent.pop(pkt.ack_id, None) if pkt.ack_id is not None else None
            if name is not None and self._ack_sink is not None:
                self.counts["acks"] += 1
                self._ack_sink(name, pkt.ack_id, pkt.args)
            return
        assert pkt.name is not None
        try:
            event = self.parser.parse(pkt.name, pkt.args, now_ms())
        except Exception:  # the parser never raises by contract; belt and braces
            self.counts["parse_errors"] += 1
            log.exception("page_feed_parse_failed", event=pkt.name)
            return
        if event is None:
            return
        self.counts["events"] += 1
        raw = pkt.args[-1] if pkt.args and isinstance(pkt.args[-1], dict) else None
        try:
            self._event_sink(event, raw)
        except Exception:  # a consumer bug must not kill Playwright's event dispatch
            self.counts["sink_errors"] += 1
            log.exception("page_feed_sink_failed", event=pkt.name)
