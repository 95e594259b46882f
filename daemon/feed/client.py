"""The live feed: a Socket.IO client that turns every received event into internal events.

``FeedClient`` wraps ``socketio.AsyncClient``:

- URL from ``Settings.feed.url`` (the local simulator by default). For the real venue
  (the host of ``feed.real_url``) the query string ``feed.query`` and the ``Origin``
  header ``feed.origin`` are added (``connect_target``).
- Transports in ``feed.transports`` order: websocket first, then polling — on *every*
  connect, python-socketio's own reconnects included (``feed/sio.py``): one failed
  websocket attempt must not leave the session on slow polling for good.
- Reconnection: python-socketio's own (capped exponential backoff with jitter) after a
  dropped connection; python-socketio does not retry the *first* connect, nor a
  connection the server closed on purpose, so ``run`` loops over those with the same
  capped backoff (``backoff_delay``) until its stop event is set.
- A connection that stays silent (no event at all) for ``feed.silent_reconnect_s`` is
  dropped and reconnected: a half-open socket otherwise looks connected until Engine.IO's
  ping timeout (~45 s), and a server that stops without closing its sockets (python-socketio's
  ``AsyncServer.shutdown`` does that) would leave us hanging.
- A catch-all handler receives every event, stamps the receive time
  (``time.time_ns() // 1_000_000``: the edge is where clocks are allowed), hands
  ``(name, args, ts_ms)`` to raw listeners (the recorder), parses with ``EventParser``
  and calls ``on_event(event)``. Handlers run in arrival order; a sync ``on_event``
  is strictly ordered, an async one is serialised by a FIFO lock.
- ``FeedHealth`` tracks connected/stale/reconnects; ``on_health_change`` is called on
  every stale/fresh transition so the risk layer can HALT.
- A Socket.IO frame that cannot be decoded or dispatched (bad JSON, unknown packet type,
  an event that is not a list...) is dropped and counted by reason in
  ``counters.frames_rejected`` (python-socketio would only log it, and we silence its
  logger); ``rejected_by_reason`` merges those with the parser's rejections.
- ``close`` is single-flight: concurrent callers (a signal handler and the run loop's own
  ``finally``) share one shutdown instead of racing two (polling raised CancelledError).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import socketio
import structlog

from rugsd.daemon.config import FeedConfig
from rugsd.daemon.events import Event, GameUpdate
from rugsd.daemon.feed.health import (
    FeedHealth,
    FeedHealthSnapshot,
    HealthChange,
    HealthWatchdog,
    monotonic_ms,
)
from rugsd.daemon.feed.sio import SioClient

log = structlog.get_logger(__name__)

CLOSE_GRACE_S = 2.0  # how long close() waits for a clean disconnect before aborting
RECONNECT_GRACE_S = 0.05  # after a disconnect, time for python-socketio to start its own

RawListener = Callable[[str, list[Any], int], None]
EventCallback = Callable[[Event], Awaitable[Any] | Any]


class FeedError(Exception):
    """Base class of feed client errors raised to callers."""


class NotConnectedError(FeedError):
    """An emit was attempted while the feed is not connected."""


class AckTimeoutError(FeedError, TimeoutError):
    """The server did not acknowledge an emit in time."""


def connect_target(url: str, feed: FeedConfig) -> tuple[str, dict[str, str]]:
    """The URL and headers to connect with: the real venue gets query + Origin."""
    parts = urlsplit(url)
    real = urlsplit(feed.real_url)
    if not parts.hostname or parts.hostname != real.hostname:
        return url, {}
    if feed.query and not parts.query:
        url = urlunsplit(parts._replace(query=feed.query))
    return url, ({"Origin": feed.origin} if feed.origin else {})


def backoff_delay(attempt: int, base_s: float, cap_s: float, jitter: float, u: float) -> float:
    """Capped exponential backoff: ``min(cap, base * 2**attempt)`` ± ``jitter`` (fraction).

    ``u`` in [0, 1) is the random draw (passed in so the function stays pure).
    """
    delay = min(cap_s, base_s * (2 ** min(attempt, 30)))
    return max(0.0, delay * (1.0 + jitter * (2.0 * u - 1.0)))


def normalize_ack(ack: Any) -> dict[str, Any]:
    """An ack as a dict: the payload dict itself, the last dict of several arguments, or a
    ``{"success": False, "message": "unexpected ack", "raw": ...}`` wrapper."""
    if isinstance(ack, dict):
        return ack
    if isinstance(ack, (tuple, list)):
        for item in reversed(ack):
            if isinstance(item, dict):
                return item
    return {"success": False, "message": "unexpected ack", "raw": ack}


@dataclass(slots=True)
class ClientCounters:
    """Counters of the client's own failure paths (never raised, always counted)."""

    events: int = 0  # raw events received
    parsed: int = 0  # internal events produced
    unparsed: int = 0  # events the parser ignored or rejected
    callback_errors: int = 0  # on_event raised
    listener_errors: int = 0  # a raw listener raised
    connect_failures: int = 0  # failed connect attempts of our own loop
    silent_drops: int = 0  # connections dropped by us because nothing arrived
    frames_rejected: dict[str, int] = field(default_factory=dict)  # by reason


def _default_parser() -> Any:
    from rugsd.daemon.protocol.parse import EventParser

    return EventParser()


class FeedClient:
    """Socket.IO feed client with reconnect, raw listeners, parsing and health."""

    def __init__(
        self,
        feed: FeedConfig | None = None,
        *,
        url: str | None = None,
        on_event: EventCallback | None = None,
        on_health_change: Callable[[HealthChange, FeedHealthSnapshot], None] | None = None,
        auth: dict[str, Any] | None = None,
        parser: Any = None,
    ) -> None:
        self.feed = feed if feed is not None else FeedConfig()
        self.url, self.headers = connect_target(url or self.feed.url, self.feed)
        self.on_event = on_event
        self.auth = auth
        self.parser = parser if parser is not None else _default_parser()
        self.counters = ClientCounters()
        self.health = FeedHealth(int(self.feed.stale_after_s * 1000))
        self.watchdog = HealthWatchdog(
            self.health, on_health_change, parse_stats=lambda: getattr(self.parser, "stats", None)
        )
        self._raw_listeners: list[RawListener] = []
        self._connected = asyncio.Event()
        self._dispatch_lock = asyncio.Lock()
        self._emit_lock = asyncio.Lock()
        self._closed = False
        self._last_event_mono_ms = 0
        self._drop_task: asyncio.Task[None] | None = None
        self._close_task: asyncio.Task[None] | None = None
        self._ended = asyncio.Event()  # a disconnect happened (see ``_session``)
        self._bad_frame_logged: dict[str, int] = {}
        self._sio = SioClient(
            reconnection=True,
            reconnection_attempts=0,  # forever; run()'s stop event ends it
            reconnection_delay=self.feed.reconnect_delay_s,
            reconnection_delay_max=self.feed.reconnect_delay_max_s,
            # python-socketio adds +/- this many *seconds*: scale it to the base delay
            randomization_factor=self.feed.reconnect_randomization * self.feed.reconnect_delay_s,
            logger=False,
            engineio_logger=False,
            handle_sigint=False,
            request_timeout=self.feed.connect_timeout_s,
            on_bad_frame=self._on_bad_frame,
            on_connect_failed=self._on_connect_failed,
        )
        self._sio.on("connect", self._on_connect)
        self._sio.on("disconnect", self._on_disconnect)
        self._sio.on("connect_error", self._on_connect_error)
        self._sio.on("*", self._on_any)

    # -- public -----------------------------------------------------------------------
    def add_raw_listener(self, listener: RawListener) -> None:
        """Call ``listener(name, args, ts_ms)`` for every event, before parsing."""
        self._raw_listeners.append(listener)

    @property
    def connected(self) -> bool:
        """True while the Socket.IO session is up (set by the connect event, which
        python-socketio fires before its own ``connected`` flag turns true)."""
        return self._connected.is_set()

    def health_snapshot(self) -> FeedHealthSnapshot:
        """The current feed health."""
        return self.watchdog.snapshot()

    def rejected_by_reason(self) -> dict[str, int]:
        """Every rejected frame or event, by reason: ``frame:<reason>`` (undecodable
        Socket.IO frames) and ``parse:<event>:<reason>`` (the parser's rejections)."""
        out = {f"frame:{k}": v for k, v in self.counters.frames_rejected.items()}
        stats = getattr(self.parser, "stats", None)
        parsed = stats() if callable(stats) else {}
        rejected = parsed.get("rejected", {}) if isinstance(parsed, dict) else {}
        for name, reasons in rejected.items():
            if isinstance(reasons, dict):
                for reason, n in reasons.items():
                    out[f"parse:{name}:{reason}"] = int(n)
        return out

    async def wait_connected(self, timeout: float) -> bool:
        """Wait until connected; False on timeout."""
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def run(self, stop_event: asyncio.Event) -> None:
        """Connect and stay connected until ``stop_event`` is set (or cancellation)."""
        watchdog = asyncio.create_task(self._watch(stop_event), name="feed-health")
        stopper = asyncio.create_task(stop_event.wait(), name="feed-stop")
        session: asyncio.Future[Any] | None = None
        attempt = 0
        try:
            while not stop_event.is_set() and not self._closed:
                connected = await self._connect_once()
                _raise_if_cancelling()
                if not connected:
                    self.counters.connect_failures += 1
                    delay = backoff_delay(
                        attempt,
                        self.feed.reconnect_delay_s,
                        self.feed.reconnect_delay_max_s,
                        self.feed.reconnect_randomization,
                        random.random(),
                    )
                    attempt += 1
                    await _wait(stop_event, delay)
                    _raise_if_cancelling()
                    continue
                attempt = 0
                # sio.wait() returns when the session ended for good (python-socketio does
                # not reconnect after a server-side disconnect) — or we stop. It must not
                # be cancelled while connected: that would cancel engineio's read loop.
                session = asyncio.ensure_future(self._sio.wait())
                if not await self._session(session, stopper):
                    break
                session = None
                await _wait(stop_event, self.feed.reconnect_delay_s)  # pause, then reconnect
                _raise_if_cancelling()
        finally:
            await self.close()
            for task in (watchdog, stopper, session):
                if task is not None and not task.done():
                    task.cancel()  # safe now: the connection is closed
            for task in (watchdog, stopper, session):
                if task is not None:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    async def _session(self, session: asyncio.Future[Any], stopper: asyncio.Future[Any]) -> bool:
        """Wait for the session to end (True) or for the stop (False).

        After a disconnect that python-socketio will not retry by itself (the server
        ended the session), the session is ended at once: on polling, ``sio.wait()``
        would otherwise sit in the engine.io long-poll for up to ~30 s before the
        reconnect could start (issue 10: 26.8 s vs 0.4 s on websocket).
        """
        while True:
            self._ended.clear()
            ended = asyncio.ensure_future(self._ended.wait())
            try:
                done, _ = await asyncio.wait({session, stopper, ended},
                                             return_when=asyncio.FIRST_COMPLETED)
            finally:
                ended.cancel()
            if session in done:
                return True
            if stopper in done:
                return False
            await asyncio.sleep(RECONNECT_GRACE_S)  # python-socketio may reconnect itself
            if self._sio.connected or self._sio.reconnecting:
                continue  # its own reconnect: the session goes on
            await self._sio.end_session()
            session.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await session
            return True

    async def _watch(self, stop_event: asyncio.Event) -> None:
        """Health polling plus the silence check (a half-open socket looks connected)."""
        silent_ms = int(self.feed.silent_reconnect_s * 1000)
        while not stop_event.is_set():
            self.watchdog.tick()
            if (
                self._sio.connected
                and monotonic_ms() - self._last_event_mono_ms > silent_ms
            ):
                self.counters.silent_drops += 1
                self._last_event_mono_ms = monotonic_ms()
                log.warning("feed_silent_reconnect", silent_s=self.feed.silent_reconnect_s)
                # client-side disconnect: sio.wait() returns and run() reconnects
                self._drop_task = asyncio.create_task(self._drop())
            await _wait(stop_event, self.watchdog.interval_s)

    async def _drop(self) -> None:
        with contextlib.suppress(Exception):
            await self._sio.disconnect()

    async def close(self) -> None:
        """Disconnect and abort any reconnection; idempotent and single-flight: every
        caller waits for the one shutdown in progress."""
        self._closed = True
        if self._close_task is None:
            self._close_task = asyncio.ensure_future(self._close_once())
        await asyncio.shield(self._close_task)

    async def _close_once(self) -> None:
        try:
            await asyncio.wait_for(self._sio.shutdown(), CLOSE_GRACE_S)
        except TimeoutError:
            # a polling long-poll the server does not answer would hold the stop for
            # up to ~45 s: drop the connection's tasks instead of waiting for it
            log.info("feed_close_aborted", grace_s=CLOSE_GRACE_S)
            with contextlib.suppress(Exception):
                await self._sio.eio.disconnect(abort=True)
        except asyncio.CancelledError:
            # engine.io awaits its read loop, which the connection's end may have
            # cancelled under it (polling): that is not a cancellation of this task
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
        except Exception:  # noqa: BLE001, S110 - closing must not fail the caller
            pass
        # a connect cancelled half-way leaves Engine.IO up while Socket.IO's own
        # ``connected`` is still False, and shutdown() then does nothing: close it here
        if getattr(self._sio.eio, "state", None) == "connected":
            with contextlib.suppress(Exception):
                await self._sio.eio.disconnect()
        self._connected.clear()
        if self.health.connected:  # no disconnect event came: record it ourselves
            self.watchdog.report(self.health.on_disconnect())

    async def emit_with_ack(self, name: str, payload: Any, timeout: float) -> dict[str, Any]:
        """Emit ``name`` and return the server's ack as a dict (see ``normalize_ack``).

        Raises ``NotConnectedError`` when not connected and ``AckTimeoutError`` when no
        ack arrives within ``timeout`` seconds.
        """
        if not self._connected.is_set():
            raise NotConnectedError(f"cannot emit {name}: feed not connected")
        async with self._emit_lock:  # python-socketio emits are not concurrency-safe
            try:
                ack = await self._sio.call(name, payload, timeout=timeout)
            except socketio.exceptions.TimeoutError:
                raise AckTimeoutError(f"no ack for {name} within {timeout}s") from None
            except socketio.exceptions.BadNamespaceError:
                raise NotConnectedError(f"cannot emit {name}: feed not connected") from None
        return normalize_ack(ack)

    # -- connection -------------------------------------------------------------------
    async def _connect_once(self) -> bool:
        """One connect attempt per transport (websocket, then polling: ``SioClient``)."""
        try:
            await self._sio.connect(
                self.url,
                headers=self.headers,
                auth=self.auth,
                transports=list(self.feed.transports),
                wait_timeout=self.feed.connect_timeout_s,
            )
        except Exception:  # noqa: BLE001 - every failure is retried with backoff
            return False
        return True

    def _on_connect_failed(self, transport: str, error: str) -> None:
        log.info("feed_connect_failed", url=self.url, transport=transport, error=error)

    def _on_bad_frame(self, reason: str, detail: str) -> None:
        frames = self.counters.frames_rejected
        frames[reason] = frames.get(reason, 0) + 1
        # one line per reason, then every 1000th (a flood must not flood the log)
        seen = self._bad_frame_logged.get(reason, 0)
        self._bad_frame_logged[reason] = seen + 1
        if seen % 1000 == 0:
            log.warning("feed_frame_rejected", reason=reason, detail=detail, count=seen + 1)

    def _on_connect(self) -> None:
        self._last_event_mono_ms = monotonic_ms()  # a fresh socket gets the full window
        self.health.on_connect()
        self._connected.set()
        log.info("feed_connected", url=self.url, reconnects=self.health.reconnects,
                 transport=self._sio.transport())

    def _on_disconnect(self, reason: Any = None) -> None:
        self._connected.clear()
        self._ended.set()
        log.info("feed_disconnected", reason=str(reason))
        self.watchdog.report(self.health.on_disconnect())

    def _on_connect_error(self, data: Any = None) -> None:
        log.debug("feed_connect_error", error=str(data)[:200])

    # -- events -----------------------------------------------------------------------
    async def _on_any(self, name: str, *args: Any) -> None:
        if self._closed:  # messages still queued after close() are not delivered
            return
        ts_ms = time.time_ns() // 1_000_000
        self._last_event_mono_ms = monotonic_ms()
        self.counters.events += 1
        self.health.on_event()
        arglist = list(args)
        for listener in self._raw_listeners:
            try:
                listener(name, arglist, ts_ms)
            except Exception as err:  # noqa: BLE001 - the recorder must not stop the feed
                self.counters.listener_errors += 1
                log.error("feed_raw_listener_failed", event_name=name, error=repr(err)[:200])
        try:
            event = self.parser.parse(name, arglist, ts_ms)
        except Exception as err:  # noqa: BLE001 - the parser promises not to raise; belt
            log.error("feed_parser_raised", event_name=name, error=repr(err)[:200])
            event = None
        if event is None:
            self.counters.unparsed += 1
            return
        self.counters.parsed += 1
        if isinstance(event, GameUpdate):
            self.watchdog.report(self.health.on_game_update(ts_ms, monotonic_ms()))
        if self.on_event is None:
            return
        try:
            result = self.on_event(event)
            if inspect.isawaitable(result):
                async with self._dispatch_lock:
                    await result
        except Exception as err:  # noqa: BLE001 - a consumer bug must not stop the feed
            self.counters.callback_errors += 1
            log.error("feed_callback_failed", event_name=name, error=repr(err)[:200])


async def _wait(stop_event: asyncio.Event, delay: float) -> None:
    """Sleep ``delay`` seconds or until ``stop_event`` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop_event.wait(), delay)


def _raise_if_cancelling() -> None:
    """Re-raise a cancellation that ``asyncio.wait_for`` swallowed.

    Python 3.11's ``wait_for`` drops a cancel that lands while its inner future
    completes (fixed in 3.12); python-socketio's ``connect`` uses it, so ``run`` would
    otherwise keep running after ``task.cancel()``.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
