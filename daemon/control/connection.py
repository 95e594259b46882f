"""One control-socket client on the server side: bounded answers, one snapshot slot.

The server never awaits a client: answers go to a bounded queue drained by this
connection's own writer task, and a subscriber keeps only the newest unsent snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from rugsd.daemon.control.protocol import error_line

MAX_PENDING_ANSWERS = 32  # unread answers before a client counts as stuck and is dropped
WRITE_BUFFER_HIGH = 256 << 10  # above this, snapshots for that client are dropped


@dataclass
class ControlCounters:
    """What the server has seen (shell state, read by tests, status and metrics)."""

    connections_total: int = 0
    commands_total: int = 0
    snapshots_sent: int = 0
    snapshots_dropped: int = 0
    errors: Counter[str] = field(default_factory=Counter)


class Connection:
    """One client: a bounded queue of answers, one snapshot slot and a writer task."""

    def __init__(self, writer: asyncio.StreamWriter, counters: ControlCounters) -> None:
        self.writer = writer
        self.counters = counters
        self.answers: deque[bytes] = deque()
        self.snapshot: bytes | None = None
        self.subscribed = False
        self.closed = False
        self.wake = asyncio.Event()
        self.writer_task = asyncio.create_task(self._write_loop())
        self.reader_task: asyncio.Task[Any] | None = asyncio.current_task()

    def send(self, line: bytes) -> bool:
        """Queue an answer; False (and the connection is dropped) if the client is stuck."""
        if self.closed:
            return False
        if len(self.answers) >= MAX_PENDING_ANSWERS:
            self.abort()
            return False
        self.answers.append(line)
        self.wake.set()
        return True

    def offer_snapshot(self, line: bytes) -> None:
        """Keep only the newest unsent snapshot; skip it while the socket buffer is full."""
        if self.closed:
            return
        if self.writer.transport.get_write_buffer_size() > WRITE_BUFFER_HIGH:
            self.counters.snapshots_dropped += 1  # the client is not reading: skip this one
            return
        if self.snapshot is not None:
            self.counters.snapshots_dropped += 1  # replaced by a newer one before it went out
        self.snapshot = line
        self.wake.set()

    async def _write_loop(self) -> None:
        try:
            while not self.closed:
                await self.wake.wait()
                self.wake.clear()
                while self.answers or self.snapshot is not None:
                    if self.answers:
                        data = self.answers.popleft()
                    else:
                        data, self.snapshot = self.snapshot, None
                        self.counters.snapshots_sent += 1
                    self.writer.write(data)
                    await self.writer.drain()
        except (ConnectionError, OSError):
            self.abort()  # the client went away mid-write: nothing to tell anyone

    def abort(self) -> None:
        """Drop the connection now (no flushing)."""
        if self.closed:
            return
        self.closed = True
        self.writer.transport.abort()
        self.wake.set()

    async def flush_and_close(self, timeout: float = 1.0) -> None:
        """Send what is queued (bounded in time), then close."""
        if not self.closed:
            self.wake.set()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(timeout):
                    await self._drained()
        self.abort()
        self.writer_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.writer_task

    async def _drained(self) -> None:
        while self.answers and not self.closed:
            await asyncio.sleep(0.005)
        await self.writer.drain()


class LineTooLong(Exception):
    """A request line exceeded the reader's limit (it was skipped)."""


async def read_line(reader: asyncio.StreamReader) -> bytes | None:
    """The next line, None at EOF; an over-long line is skipped up to its newline."""
    try:
        return await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as err:
        return err.partial or None  # a last line without newline still counts
    except asyncio.LimitOverrunError as err:
        consumed = err.consumed
    # resynchronise: drop everything up to and including the next newline
    while True:
        if consumed:
            await reader.readexactly(consumed)
        try:
            await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError:
            raise LineTooLong from None  # EOF while skipping; the next read sees it
        except asyncio.LimitOverrunError as err:
            consumed = err.consumed
            continue
        raise LineTooLong


async def refuse(writer: asyncio.StreamWriter, message: str, request_id: Any = None) -> None:
    """Send one error line and drop the connection."""
    with contextlib.suppress(Exception):
        writer.write(error_line(message, request_id))
        async with asyncio.timeout(1.0):
            await writer.drain()
    writer.transport.abort()
