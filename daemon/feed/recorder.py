"""Recorder: raw feed events → JSON lines, one file per game.

Each line is ``{"recv_ts_ms": int, "event": name, "args": [...]}`` with the Socket.IO
arguments exactly as received (trace object kept), so a replay parses them with the
same parser as the live feed. A ``gameStateUpdate`` carrying a new ``gameId`` starts
``<out>/<gameId>.jsonl`` (appended to when the game comes back, e.g. after a
reconnect). Events before the first game id is known are held (bounded) and written at
the top of the first file. Files are line-buffered: every line reaches the OS as soon as
it is written, so a ``kill -9`` loses at most the line being written.

``record(...)`` is the asyncio shell used by ``rugsd record``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import structlog

from rugsd.daemon.config import FeedConfig

log = structlog.get_logger(__name__)

GAME_EVENT = "gameStateUpdate"
MAX_PENDING = 10_000
# a game id becomes a file name: accept only a safe shape (real ids: YYYYMMDD-<16 hex>)
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")


def game_id_of(name: str, args: list[Any]) -> str | None:
    """The ``gameId`` of a ``gameStateUpdate`` (payload = last argument), if usable."""
    if name != GAME_EVENT or not args:
        return None
    payload = args[-1]
    if not isinstance(payload, dict):
        return None
    gid = payload.get("gameId")
    if isinstance(gid, str) and _SAFE_ID.match(gid) and ".." not in gid:
        return gid
    return None


def _json_default(value: Any) -> Any:
    # binary attachments are rare in this feed; keep them recoverable
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"__bytes_b64__": base64.b64encode(bytes(value)).decode("ascii")}
    return repr(value)


def encode_line(name: str, args: list[Any], ts_ms: int) -> str:
    """One recorded line (without the newline)."""
    return json.dumps(
        {"recv_ts_ms": ts_ms, "event": name, "args": args},
        separators=(",", ":"),
        ensure_ascii=False,
        default=_json_default,
    )


@dataclass(slots=True)
class RecorderStats:
    """What the recorder did."""

    lines: int = 0
    files: int = 0  # files opened (a game coming back reopens its file: counted again)
    bytes: int = 0
    dropped: int = 0  # pending lines dropped before any game id was known
    errors: int = 0  # encode/write failures


class Recorder:
    """A raw listener (``FeedClient.add_raw_listener(recorder.on_raw)``) writing files."""

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.stats = RecorderStats()
        self.game_id: str | None = None
        self.paths: list[Path] = []  # every file written, in order of first use
        self._fh: TextIO | None = None
        self._pending: list[str] = []

    def on_raw(self, name: str, args: list[Any], ts_ms: int) -> None:
        """Record one raw event; never raises (failures are logged and counted)."""
        try:
            line = encode_line(name, args, ts_ms)
        except (TypeError, ValueError) as err:
            self.stats.errors += 1
            log.error("record_encode_failed", event_name=name, error=str(err)[:200])
            return
        gid = game_id_of(name, args)
        if gid is not None and gid != self.game_id:
            self._rotate(gid)
        if self._fh is None:
            if len(self._pending) >= MAX_PENDING:
                self._pending.pop(0)
                self.stats.dropped += 1
            self._pending.append(line)
            return
        self._write(line)

    def close(self) -> None:
        """Flush pending lines (to ``unknown-<ms>.jsonl``) and close the current file."""
        if self._fh is None and self._pending:
            self._open(self.out_dir / f"unknown-{time.time_ns() // 1_000_000}.jsonl")
            self._drain()
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def _rotate(self, gid: str) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.game_id = gid
        self._open(self.out_dir / f"{gid}.jsonl")
        self._drain()

    def _open(self, path: Path) -> None:
        try:
            # line buffering: each complete line is handed to the OS at once
            self._fh = path.open("a", encoding="utf-8", buffering=1)
        except OSError as err:
            self.stats.errors += 1
            log.error("record_open_failed", path=str(path), error=str(err))
            return
        self.stats.files += 1
        if path not in self.paths:
            self.paths.append(path)
        log.info("record_file", path=str(path))

    def _drain(self) -> None:
        pending, self._pending = self._pending, []
        for line in pending:
            self._write(line)

    def _write(self, line: str) -> None:
        if self._fh is None:
            return
        try:
            self._fh.write(line + "\n")
        except OSError as err:
            self.stats.errors += 1
            log.error("record_write_failed", error=str(err))
            return
        self.stats.lines += 1
        self.stats.bytes += len(line) + 1


async def record(
    out_dir: str | Path,
    feed: FeedConfig,
    url: str | None = None,
    duration_s: float | None = None,
    stop_event: asyncio.Event | None = None,
    install_signals: bool = False,
) -> RecorderStats:
    """Connect to the feed and record until ``duration_s`` elapses or a stop is asked.

    With ``install_signals`` SIGINT/SIGTERM set the stop event (clean stop, files
    closed). Returns the recorder's counts.
    """
    from rugsd.daemon.feed.client import FeedClient

    stop = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    recorder = Recorder(out_dir)
    client = FeedClient(feed, url=url)
    client.add_raw_listener(recorder.on_raw)
    installed: list[int] = []
    if install_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
    timer = loop.call_later(duration_s, stop.set) if duration_s else None
    log.info("record_start", url=client.url, out=str(out_dir), duration_s=duration_s)
    try:
        await client.run(stop)
    finally:
        if timer is not None:
            timer.cancel()
        for sig in installed:
            loop.remove_signal_handler(sig)
        recorder.close()
        log.info("record_stop", lines=recorder.stats.lines, files=len(recorder.paths),
                 reconnects=client.health.reconnects)
    return recorder.stats
