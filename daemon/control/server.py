"""The control server: a Unix socket (mode 0600) in the run directory.

An edge component: the daemon injects a ``snapshot_provider`` (returns the snapshot
dict, cheap and synchronous) and a ``command_handler`` (applies kill/pause/... and
returns ``{"ok", "detail", "risk"}``; may be async). The server never blocks on a
client: each connection has its own writer task, answers are bounded per connection,
and a subscriber that cannot keep up has snapshots dropped (only the newest unsent one
is kept). Every command is logged with who/when and handed to the handler, which
journals it; a request refused for bad arguments goes to ``on_refused`` to be journaled.

Availability: a client that neither subscribed nor sent a request for
``idle_timeout_s`` is told so and dropped, and when all ``max_clients`` slots are taken
*reserved* slots still serve one ``kill`` each (anything else is refused there). When the
reserved slots are taken too, the connection that has waited longest without sending its
line gives its slot to the newcomer (a kill is sent at once, a silent client is the one
that waits): clients that connect and say nothing, however many and however fast they
reconnect, can never lock the kill switch out.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import structlog

from rugsd.daemon.control.connection import (
    WRITE_BUFFER_HIGH,
    Connection,
    ControlCounters,
    LineTooLong,
    read_line,
    refuse,
)
from rugsd.daemon.control.protocol import (
    MAX_REQUEST_BYTES,
    PROTOCOL_VERSION,
    SERVER_COMMANDS,
    Command,
    CommandRequest,
    ErrorKind,
    RequestError,
    encode_line,
    error_line,
    parse_request,
)
from rugsd.daemon.control.sockpath import (
    ControlSocketInUse,
    clear_stale,
    peer_credentials,
    short_address,
)

if TYPE_CHECKING:
    from rugsd.daemon.control.metrics import RugsdMetrics

log = structlog.get_logger(__name__)

SnapshotProvider = Callable[[], dict[str, Any]]
CommandHandler = Callable[[CommandRequest], "Awaitable[dict[str, Any]] | dict[str, Any]"]
RefusalHook = Callable[[str, str, str], None]  # (cmd, who, why)

_REDACT = frozenset({"token"})
RESERVED_SLOTS = 64  # connections beyond max_clients that may still send one kill
RESERVED_DEADLINE_S = 2.0  # a reserved connection must send its line within this


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class ControlServer:
    """Serve the control protocol on ``sock_path`` (see ``docs/control-protocol.md``)."""

    def __init__(
        self,
        sock_path: Path | str,
        snapshot_provider: SnapshotProvider,
        command_handler: CommandHandler,
        interval_s: float = 0.25,
        *,
        metrics: RugsdMetrics | None = None,
        max_clients: int = 32,
        command_timeout_s: float = 10.0,
        clock_ms: Callable[[], int] = _now_ms,
        allowed_uid: int | None = None,
        idle_timeout_s: float | None = 15.0,
        on_refused: RefusalHook | None = None,
    ) -> None:
        self.sock_path = Path(sock_path)
        self._provider = snapshot_provider
        self._handler = command_handler
        self.interval_s = interval_s
        self._metrics = metrics
        self._max_clients = max_clients
        self._reserved_in_use = 0
        # reserved connections still waiting for their line, oldest first
        self._reserved_waiting: dict[asyncio.StreamWriter, None] = {}
        self._idle_timeout_s = idle_timeout_s
        self._on_refused = on_refused
        self._command_timeout_s = command_timeout_s
        self._clock_ms = clock_ms
        # peers must run as this uid (SO_PEERCRED); default: the daemon's own uid
        self._allowed_uid = os.getuid() if allowed_uid is None else allowed_uid
        self.counters = ControlCounters()
        self._conns: set[Connection] = set()
        self._server: asyncio.AbstractServer | None = None
        self._broadcast_task: asyncio.Task[None] | None = None
        self._poke = asyncio.Event()
        self._seq = 0
        self._inode: int | None = None
        self._running = False

    # --- life cycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the socket (0600, stale file replaced) and start serving."""
        path = self.sock_path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        clear_stale(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with short_address(path) as addr:
                old_umask = os.umask(0o177)  # no window where the file is group/world usable
                try:
                    sock.bind(addr)
                finally:
                    os.umask(old_umask)
                os.chmod(addr, 0o600)
            sock.listen(64)
            sock.setblocking(False)
            self._inode = os.stat(path).st_ino
            self._server = await asyncio.start_unix_server(
                self._on_client, sock=sock, limit=MAX_REQUEST_BYTES
            )
        except BaseException:
            sock.close()
            raise
        self._running = True
        self._broadcast_task = asyncio.create_task(self._broadcast_loop())
        log.info("control socket listening", path=str(path), protocol=PROTOCOL_VERSION)

    async def stop(self) -> None:
        """Stop serving: drop every client, remove the socket file (if still ours)."""
        self._running = False
        if self._server is not None:
            self._server.close()
        if self._broadcast_task is not None:
            self._broadcast_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._broadcast_task
        conns = list(self._conns)
        for conn in conns:
            conn.abort()
        tasks = [c.reader_task for c in conns if c.reader_task is not None]
        tasks += [c.writer_task for c in conns]
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2.0):
                    await self._server.wait_closed()
            self._server = None
        self._remove_socket_file()
        self._broadcast_task = None
        log.info("control socket closed", path=str(self.sock_path))

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _remove_socket_file(self) -> None:
        try:
            if self._inode is not None and os.lstat(self.sock_path).st_ino == self._inode:
                os.unlink(self.sock_path)
        except FileNotFoundError:
            pass
        self._inode = None

    # --- public helpers -------------------------------------------------------------

    @property
    def client_count(self) -> int:
        """Connected clients right now."""
        return len(self._conns)

    @property
    def subscriber_count(self) -> int:
        """Connected clients that subscribed to snapshots."""
        return sum(1 for c in self._conns if c.subscribed)

    def poke(self) -> None:
        """Send subscribers a fresh snapshot now (after a command or a state change)."""
        self._poke.set()

    # --- snapshots -------------------------------------------------------------------

    async def _broadcast_loop(self) -> None:
        # call_later + Event instead of wait_for: on 3.11 a wait_for racing a poke can
        # swallow the cancellation from stop(); a plain Event.wait cancels cleanly
        loop = asyncio.get_running_loop()
        while self._running:
            timer = loop.call_later(self.interval_s, self._poke.set)
            try:
                await self._poke.wait()
            finally:
                timer.cancel()
            self._poke.clear()
            subscribers = [c for c in self._conns if c.subscribed and not c.closed]
            if not subscribers:
                continue
            line = self._snapshot_line()
            if line is None:
                continue
            for conn in subscribers:
                conn.offer_snapshot(line)

    def _snapshot(self) -> dict[str, Any] | None:
        try:
            snap = self._provider()
            if not isinstance(snap, dict):
                raise TypeError(f"snapshot provider returned {type(snap).__name__}, not dict")
        except Exception as err:  # noqa: BLE001 - a daemon bug must not kill the control plane
            self._count(ErrorKind.PROVIDER_ERROR)
            log.warning("snapshot provider failed", error=f"{type(err).__name__}: {err}")
            return None
        return snap

    def _snapshot_line(self) -> bytes | None:
        snap = self._snapshot()
        if snap is None:
            return None
        self._seq += 1
        msg = dict(snap)
        msg["type"] = "snapshot"
        msg["v"] = PROTOCOL_VERSION
        msg["seq"] = self._seq
        if not isinstance(msg.get("ts_ms"), int):
            msg["ts_ms"] = self._clock_ms()
        try:
            return encode_line(msg)
        except Exception as err:  # noqa: BLE001 - e.g. a circular structure
            self._count(ErrorKind.PROVIDER_ERROR)
            log.warning("snapshot not serialisable", error=f"{type(err).__name__}: {err}")
            return None

    # --- connections -----------------------------------------------------------------

    def _count(self, kind: ErrorKind) -> None:
        self.counters.errors[kind.value] += 1
        if self._metrics is not None:
            self._metrics.control_errors_total.labels(kind=kind.value).inc()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        pid, uid = peer_credentials(sock) if sock is not None else (None, None)
        if uid is not None and uid != self._allowed_uid:
            self._count(ErrorKind.PEER_REJECTED)
            log.warning("control client rejected: other uid", peer_uid=uid, peer_pid=pid)
            await refuse(writer, f"permission denied: peer uid {uid} is not the daemon's uid")
            return
        if len(self._conns) >= self._max_clients:
            await self._serve_reserved(reader, writer, pid, uid)
            return
        writer.transport.set_write_buffer_limits(high=WRITE_BUFFER_HIGH)
        conn = Connection(writer, self.counters)
        self._conns.add(conn)
        self.counters.connections_total += 1
        try:
            while not conn.closed:
                try:
                    line = await self._read_request(reader, conn)
                except TimeoutError:
                    self._count(ErrorKind.IDLE_TIMEOUT)
                    conn.send(error_line(
                        f"idle for {self._idle_timeout_s:g}s without a request: disconnected"))
                    break
                except LineTooLong:
                    self._count(ErrorKind.TOO_LONG)
                    conn.send(error_line(f"request longer than {MAX_REQUEST_BYTES} bytes"))
                    continue
                if line is None:
                    break
                if line.strip():
                    await self._handle_line(conn, line, pid, uid)
        except (ConnectionError, OSError):
            pass  # vanished client: nothing to do
        finally:
            self._conns.discard(conn)
            if not conn.closed:
                await conn.flush_and_close()
            else:
                conn.writer_task.cancel()

    async def _read_request(self, reader: asyncio.StreamReader, conn: Connection) -> bytes | None:
        """The next line; ``TimeoutError`` when a non-subscriber stays silent too long."""
        if conn.subscribed or self._idle_timeout_s is None:
            return await read_line(reader)
        async with asyncio.timeout(self._idle_timeout_s):
            return await read_line(reader)

    async def _serve_reserved(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
        pid: int | None, uid: int | None,
    ) -> None:
        """Every normal slot is taken: serve one ``kill`` (only) on a reserved slot."""
        self._count(ErrorKind.TOO_MANY_CLIENTS)
        full = f"too many control clients (max {self._max_clients})"
        if self._reserved_in_use >= RESERVED_SLOTS:
            if not self._reserved_waiting:  # every reserved slot is serving a kill
                await refuse(writer, full)
                return
            # the longest-waiting silent connection gives its slot to this one (issue 10:
            # silent clients that reconnect kept every reserved slot, and the kill out)
            oldest = next(iter(self._reserved_waiting))
            del self._reserved_waiting[oldest]
            oldest.transport.abort()
        self._reserved_in_use += 1
        self._reserved_waiting[writer] = None
        try:
            try:
                async with asyncio.timeout(RESERVED_DEADLINE_S):
                    line = await read_line(reader)
            except (TimeoutError, LineTooLong, ConnectionError, OSError):
                line = None
            finally:
                self._reserved_waiting.pop(writer, None)
            try:
                req = parse_request(line) if line else None
            except RequestError as err:
                self._refused(err)
                req = None
            if req is None or req.cmd is not Command.KILL:
                rid = req.id if req is not None else None
                await refuse(writer, f"{full}: only kill is served on the reserved slot", rid)
                return
            log.warning("kill on a reserved control slot", who=req.who, clients=len(self._conns))
            answer = await self._run_command(self._request(req, pid, uid))
            with contextlib.suppress(Exception):
                writer.write(answer)
                async with asyncio.timeout(1.0):
                    await writer.drain()
            writer.transport.abort()
        finally:
            self._reserved_in_use -= 1

    def _request(self, req: Any, pid: int | None, uid: int | None) -> CommandRequest:
        return CommandRequest(
            id=req.id, cmd=req.cmd, args=req.args, who=req.who, ts_ms=self._clock_ms(),
            peer_pid=pid, peer_uid=uid,
        )

    def _refused(self, err: RequestError) -> None:
        """Count and log a refused request; journal it (``on_refused``) if it named a command."""
        self._count(err.kind)
        log.info("control request refused", kind=err.kind.value, error=str(err))
        if self._on_refused is None or err.cmd is None or err.cmd in SERVER_COMMANDS:
            return
        try:
            self._on_refused(err.cmd.value, err.who, str(err))
        except Exception as hook_err:  # noqa: BLE001 - journaling must not break serving
            log.warning("refusal hook failed", error=f"{type(hook_err).__name__}: {hook_err}")

    async def _handle_line(
        self, conn: Connection, line: bytes, pid: int | None, uid: int | None
    ) -> None:
        try:
            req = parse_request(line)
        except RequestError as err:
            self._refused(err)
            conn.send(error_line(str(err), err.request_id))
            return
        if req.cmd is Command.SUBSCRIBE:
            conn.subscribed = True
            first = self._snapshot_line()
            if first is not None:
                conn.offer_snapshot(first)
            return
        if req.cmd is Command.STATUS:
            conn.send(self._status_answer(req.id))
            return
        conn.send(await self._run_command(self._request(req, pid, uid)))
        self.poke()

    def _status_answer(self, rid: Any) -> bytes:
        snap = self._snapshot()
        if snap is None:
            return error_line("status unavailable: the daemon could not build a snapshot", rid)
        risk = snap.get("risk") if isinstance(snap.get("risk"), dict) else None
        state = str((risk or {}).get("state", "UNKNOWN")).upper()
        answer = {
            "type": "result", "v": PROTOCOL_VERSION, "id": rid, "ok": True, "cmd": "status",
            "risk": risk, "detail": state, "snapshot": snap,
        }
        return encode_line(answer)

    async def _run_command(self, request: CommandRequest) -> bytes:
        self.counters.commands_total += 1
        shown = {k: ("***" if k in _REDACT else v) for k, v in request.args.items()}
        log.info(
            "control command", cmd=request.cmd.value, who=request.who, args=shown,
            ts_ms=request.ts_ms, peer_pid=request.peer_pid,
        )
        if self._metrics is not None:
            self._metrics.control_commands_total.labels(cmd=request.cmd.value).inc()
        try:
            out = self._handler(request)
            if inspect.isawaitable(out):
                async with asyncio.timeout(self._command_timeout_s):
                    out = await out
        except TimeoutError:
            self._count(ErrorKind.HANDLER_TIMEOUT)
            log.warning("control command timed out", cmd=request.cmd.value, who=request.who)
            return error_line(
                f"{request.cmd} timed out after {self._command_timeout_s:g}s", request.id
            )
        except Exception as err:  # noqa: BLE001 - answered as an error line, server stays up
            self._count(ErrorKind.HANDLER_ERROR)
            log.warning("control command failed", cmd=request.cmd.value,
                        error=f"{type(err).__name__}: {err}")
            one_line = " ".join(str(err).split())[:200]
            return error_line(f"{request.cmd} failed: {type(err).__name__}: {one_line}", request.id)
        if not isinstance(out, dict):
            self._count(ErrorKind.HANDLER_ERROR)
            return error_line(f"{request.cmd} failed: handler returned no result", request.id)
        risk = out.get("risk")
        if not isinstance(risk, dict):
            snap = self._snapshot()
            risk = snap.get("risk") if snap is not None else None
        answer = {
            "type": "result", "v": PROTOCOL_VERSION, "id": request.id,
            "ok": bool(out.get("ok", True)), "cmd": request.cmd.value,
            "risk": risk, "detail": str(out.get("detail", "")),
        }
        log.info("control command done", cmd=request.cmd.value, who=request.who,
                 ok=answer["ok"], detail=answer["detail"])
        return encode_line(answer)


__all__ = ["ControlCounters", "ControlServer", "ControlSocketInUse"]
