"""Clients of the control socket: async (the TUI) and a blocking helper (CLI commands).

Answers are returned as plain dicts (``type`` is ``result`` or ``error``); transport
problems — socket missing, connection refused, no answer in time, connection closed —
raise ``ControlUnavailable`` so callers can fall back to the kill file / signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import itertools
import json
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Self

from rugsd.daemon.control.sockpath import short_address
from rugsd.daemon.control.wire import MAX_LINE_BYTES, Command, request_line, socket_path

_ids = itertools.count(1)


class ControlUnavailable(Exception):
    """The daemon's control socket cannot be reached (missing, refused, silent, closed)."""


class ControlError(Exception):
    """The daemon answered with an error (or with something that is not the protocol)."""


def _next_id() -> str:
    return f"{os.getpid()}-{next(_ids)}"


def default_who(prefix: str = "cli") -> str:
    """``<prefix>:<user>@<tty>`` for the journal's who column."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        user = str(os.getuid())
    tty = "notty"
    for stream in (sys.stdin, sys.stdout):
        try:
            if stream is not None and stream.isatty():
                tty = os.ttyname(stream.fileno()).removeprefix("/dev/")
                break
        except (OSError, ValueError):
            continue
    return f"{prefix}:{user}@{tty}"


def answer_ok(answer: dict[str, Any]) -> bool:
    """True for a ``result`` answer with ``ok: true``."""
    return answer.get("type") == "result" and bool(answer.get("ok"))


def _decode(line: bytes) -> dict[str, Any]:
    try:
        msg = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ControlError(f"daemon sent malformed JSON: {err}") from None
    if not isinstance(msg, dict):
        raise ControlError("daemon sent a non-object line")
    return msg


class ControlConnection:
    """One open connection to the control socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, sock_path: Path | str, timeout: float = 2.0) -> ControlConnection:
        """Connect or raise ``ControlUnavailable``."""
        try:
            with short_address(sock_path) as addr:
                async with asyncio.timeout(timeout):
                    reader, writer = await asyncio.open_unix_connection(addr, limit=MAX_LINE_BYTES)
        except (OSError, TimeoutError) as err:
            raise ControlUnavailable(_why(sock_path, err)) from None
        return cls(reader, writer)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection (never raises)."""
        self.writer.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0):
                await self.writer.wait_closed()

    async def _send(self, line: bytes) -> None:
        try:
            self.writer.write(line)
            await self.writer.drain()
        except OSError as err:
            raise ControlUnavailable(f"daemon connection lost: {err}") from None

    async def _read(self, timeout: float | None) -> dict[str, Any]:
        try:
            async with asyncio.timeout(timeout):
                line = await self.reader.readline()
        except TimeoutError:
            raise ControlUnavailable(f"no answer from the daemon within {timeout:g}s") from None
        except ValueError:
            raise ControlError(f"daemon line longer than {MAX_LINE_BYTES} bytes") from None
        except OSError as err:
            raise ControlUnavailable(f"daemon connection lost: {err}") from None
        if not line:
            raise ControlUnavailable("the daemon closed the connection")
        return _decode(line)

    async def request(
        self,
        cmd: Command | str,
        args: dict[str, Any] | None = None,
        who: str | None = None,
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        """Send one command; return its answer (``result`` or ``error``), skipping snapshots."""
        rid = _next_id()
        await self._send(request_line(cmd, args, who or default_who(), rid))
        deadline = time.monotonic() + timeout
        while True:
            msg = await self._read(max(0.0, deadline - time.monotonic()))
            if msg.get("type") in ("result", "error") and msg.get("id") in (rid, None):
                return msg

    async def subscribe(
        self, who: str | None = None, read_timeout: float | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield snapshots until the daemon goes (``ControlUnavailable``).

        ``read_timeout``: a daemon that stays silent this long counts as gone (hung).
        """
        rid = _next_id()
        await self._send(request_line(Command.SUBSCRIBE, None, who or default_who(), rid))
        while True:
            msg = await self._read(read_timeout)
            kind = msg.get("type")
            if kind == "snapshot":
                yield msg
            elif kind == "error" and msg.get("id") in (rid, None):
                raise ControlError(str(msg.get("error", "subscribe refused")))


async def send_command(
    sock_path: Path | str,
    cmd: Command | str,
    args: dict[str, Any] | None = None,
    who: str | None = None,
    timeout: float = 5.0,
) -> dict[str, Any]:
    """Connect, send one command, return the answer dict; ``ControlUnavailable`` if unreachable."""
    conn = await ControlConnection.open(sock_path, timeout=min(timeout, 2.0))
    async with conn:
        return await conn.request(cmd, args, who, timeout)


def send_command_sync(
    sock_path: Path | str,
    cmd: Command | str,
    args: dict[str, Any] | None = None,
    who: str | None = None,
    timeout: float = 5.0,
) -> dict[str, Any]:
    """Blocking twin of ``send_command`` (usable with or without a running event loop)."""
    rid = _next_id()
    deadline = time.monotonic() + timeout
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(min(timeout, 2.0))
        try:
            with short_address(sock_path) as addr:
                sock.connect(addr)
            sock.sendall(request_line(cmd, args, who or default_who(), rid))
        except OSError as err:
            raise ControlUnavailable(_why(sock_path, err)) from None
        buf = b""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ControlUnavailable(f"no answer from the daemon within {timeout:g}s")
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(1 << 16)
            except TimeoutError:
                raise ControlUnavailable(f"no answer from the daemon within {timeout:g}s") from None
            except OSError as err:
                raise ControlUnavailable(f"daemon connection lost: {err}") from None
            if not chunk:
                raise ControlUnavailable("the daemon closed the connection without answering")
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                msg = _decode(line)
                if msg.get("type") in ("result", "error") and msg.get("id") in (rid, None):
                    return msg
            if len(buf) > MAX_LINE_BYTES:
                raise ControlError(f"daemon line longer than {MAX_LINE_BYTES} bytes")
    finally:
        sock.close()


def try_control_command(
    data_dir: Path | str,
    cmd: Command | str,
    args: dict[str, Any] | None = None,
    who: str | None = None,
    timeout: float = 2.0,
) -> dict[str, Any] | None:
    """Send ``cmd`` over ``DATA_DIR/run/control.sock``; None when the daemon is unreachable.

    For ``rugsd kill``/``arm``: try the socket first, fall back to the file/signal on None.
    A protocol-level failure (garbage from the socket) also returns None.
    """
    try:
        return send_command_sync(socket_path(data_dir), cmd, args, who, timeout)
    except (ControlUnavailable, ControlError):
        return None


def _why(sock_path: Path | str, err: BaseException) -> str:
    if isinstance(err, FileNotFoundError):
        return f"no control socket at {sock_path} (daemon not running?)"
    if isinstance(err, ConnectionRefusedError):
        return f"connection refused at {sock_path} (stale socket: daemon not running?)"
    if isinstance(err, PermissionError):
        return f"permission denied on {sock_path} (run as the daemon's user)"
    if isinstance(err, TimeoutError):
        return f"timed out connecting to {sock_path}"
    return f"cannot connect to {sock_path}: {err}"
