"""The simulator's network shell: python-socketio ``AsyncServer`` on aiohttp, in real time.

``SimServer`` owns a pure ``Room`` and drives it: a loop sleeps until the room's next step
is due (virtual time divided by ``speed``), steps it and sends what it returns. Clients
speak the real feed's protocol (Socket.IO v4):

- connect with ``auth={"player": "<name>"}`` to trade as ``sim:<name>`` (the same account
  across reconnects); without auth each connection is its own anonymous player. A new
  connection first receives a full ``gameStateUpdate`` snapshot (with ``gameHistory`` and,
  mid-game, a ``prices`` backfill, like the real site) and its ``playerUpdate``;
- emits ``buyOrder {amount}``, ``sellOrder {percentage}``, ``requestSidebet {amount,
  coinAddress, xPayout}`` with an ack callback; an active-phase order is acknowledged when
  it fills (or is refused) at the next tick, per ``rugsd.daemon.game.matching``.

HTTP: ``GET /health`` (game id, phase, tick, players) and ``GET /ledger/<player>`` (the
exact integer account). ``build_app`` builds the aiohttp application in one place; code
that serves more pages (the replica UI) adds its routes to ``SimServer.app`` after
construction and before ``start()``.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any, Self

import socketio
import structlog
from aiohttp import web
from socketio.exceptions import ConnectionRefusedError as Refused

from rugsd.daemon.config import SimConfig
from rugsd.daemon.game.accounting import sol_to_lamports
from rugsd.daemon.game.matching import OrderKind
from rugsd.daemon.sim.desk import Ack, Output
from rugsd.daemon.sim.page import add_page_routes
from rugsd.daemon.sim.players import PLAYER_PREFIX, player_id_for, valid_name
from rugsd.daemon.sim.room import Room
from rugsd.daemon.sim.schedule import DETERMINISTIC_EPOCH_MS

log = structlog.get_logger(__name__)

# when the loop falls this far behind (a stalled event loop), it re-anchors the clock
# instead of bursting every missed step at once
MAX_LAG_S = 1.0
SHUTDOWN_TIMEOUT_S = 2.0  # open HTTP/websocket connections get this long to close on stop
WELCOME_POLLS = 400  # x 5 ms: how long a greeting waits for the connection to complete
# "~" cannot appear in a chosen name, so no named player can take an anonymous account
ANON_PREFIX = f"{PLAYER_PREFIX}~anon-"
ORDER_EVENTS = {
    "buyOrder": OrderKind.BUY,
    "sellOrder": OrderKind.SELL,
    "requestSidebet": OrderKind.SIDEBET,
}


class SimServer:
    """The local game server; embed it (``await start()``) or run it with ``rugsd sim``."""

    def __init__(
        self,
        config: SimConfig,
        *,
        seed: int | str | None = None,
        speed: float | None = None,
        start_ms: int | None = None,
        tamper: str | None = None,
    ) -> None:
        """Build the room and the app. ``seed`` (else ``config.seed``) makes runs repeatable;
        ``tamper`` makes every game cheat (``rugsd.daemon.sim.tamper``; for tests).

        With a seed, virtual time starts at a fixed epoch (``DETERMINISTIC_EPOCH_MS``) so
        game ids and timestamps repeat too; without one, at the wall clock.
        """
        seed = seed if seed is not None else config.seed
        self.deterministic = seed is not None
        self.seed = str(seed) if seed is not None else secrets.token_hex(8)
        self.speed = float(speed if speed is not None else config.speed)
        if self.speed <= 0:
            raise ValueError(f"speed must be > 0, got {self.speed}")
        if start_ms is None:
            start_ms = DETERMINISTIC_EPOCH_MS if self.deterministic else int(time.time() * 1000)
        self.room = Room(
            self.seed,
            start_ms=start_ms,
            starting_balance=sol_to_lamports(config.starting_balance_sol),
            version=config.version,
            tamper=tamper,
        )
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp",
            cors_allowed_origins="*",
            logger=False,
            engineio_logger=False,
        )
        self._sid_player: dict[str, str] = {}
        self._player_sids: dict[str, set[str]] = {}
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._anon = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self.step_errors = 0
        self.send_errors = 0
        self.refused_connections = 0
        self._register()
        self.app = build_app(self)

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------------ lifecycle
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Serve on ``host:port`` (0 = any free port), start the games; return the port."""
        self._runner = web.AppRunner(
            self.app, handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.host = host
        self.port = int(self._runner.addresses[0][1])
        self._task = asyncio.create_task(self._run(), name="rugsd-sim-loop")
        log.info("sim_started", url=self.url, seed=self.seed, speed=self.speed)
        return self.port

    async def stop(self) -> None:
        """Stop the games, disconnect every client and close the listener (idempotent)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        for fut in self._acks.values():
            if not fut.done():
                fut.set_result({"success": False, "reason": "shutdown", "message": "stopping"})
        self._acks.clear()
        for task in tuple(self._tasks):
            task.cancel()
        runner, self._runner = self._runner, None
        if runner is None:
            return
        for site in list(runner.sites):  # refuse new (re)connections before disconnecting
            await site.stop()
        try:
            # close every client's transport (websocket or polling), one by one: a client
            # that is leaving on its own may vanish meanwhile
            closing = [self.sio.eio.disconnect(sid) for sid in list(self.sio.eio.sockets)]
            await asyncio.wait_for(asyncio.gather(*closing, return_exceptions=True), 5)
            await asyncio.wait_for(self.sio.shutdown(), timeout=5)
        except (TimeoutError, OSError, RuntimeError) as err:  # a stuck socket must not block
            log.warning("sim_shutdown_incomplete", error=repr(err))
        await runner.cleanup()
        log.info("sim_stopped", url=self.url, games=self.room.games_played)

    async def __aenter__(self) -> Self:
        """``async with SimServer(...)`` starts on a free loopback port."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop on leaving the block."""
        await self.stop()

    # ------------------------------------------------------------------ game loop
    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        v0 = self.room.next_at_ms
        t0 = loop.time()
        failing = 0
        while True:
            due = t0 + (self.room.next_at_ms - v0) / 1000.0 / self.speed
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -MAX_LAG_S:
                log.warning("sim_lagging", behind_s=round(-delay, 3))
                v0, t0 = self.room.next_at_ms, loop.time()
            try:
                outputs = self.room.step()
            except Exception:  # a bug in one step must not end the session
                self.step_errors += 1
                failing += 1
                log.exception("sim_step_failed", errors=self.step_errors)
                await asyncio.sleep(min(5.0, 0.1 * 2 ** min(failing, 6)))  # back off, don't spin
                v0, t0 = self.room.next_at_ms, loop.time()
                continue
            failing = 0
            try:
                await self._dispatch(outputs)
            except Exception:  # one broken connection must not stop the games
                self.send_errors += 1
                log.exception("sim_send_failed", errors=self.send_errors)

    async def _dispatch(self, outputs: list[Output] | tuple[Output, ...]) -> None:
        for out in outputs:
            if isinstance(out, Ack):
                fut = self._acks.pop(out.order_id, None)
                if fut is not None and not fut.done():
                    fut.set_result(out.payload)
                continue
            data = out.args[0] if len(out.args) == 1 else out.args
            if out.player_id is None:
                await self.sio.emit(out.event, data)
            else:
                for sid in tuple(self._player_sids.get(out.player_id, ())):
                    await self.sio.emit(out.event, data, to=sid)

    # ------------------------------------------------------------------ socket.io
    def _register(self) -> None:
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        for event, kind in ORDER_EVENTS.items():
            self.sio.on(event, self._order_handler(kind))

    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        name = auth.get("player") if isinstance(auth, dict) else None
        if name is not None and not valid_name(name):
            self.refused_connections += 1
            log.warning(
                "sim_bad_player_name", sid=sid, name=repr(name)[:80], count=self.refused_connections
            )
            raise Refused("bad player name")
        if name is None:
            self._anon += 1
            player_id, username = f"{ANON_PREFIX}{self._anon}", f"anon-{self._anon}"
        else:
            player_id, username = player_id_for(name), name
        self.room.join(player_id, username)
        self._sid_player[sid] = player_id
        self._player_sids.setdefault(player_id, set()).add(sid)
        self.room.connected = len(self._sid_player)
        # the CONNECT packet goes out after this handler returns: greet from a task
        task = asyncio.create_task(self._welcome(sid, player_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _welcome(self, sid: str, player_id: str) -> None:
        """Send a new connection the full state snapshot and its player's account."""
        for _ in range(WELCOME_POLLS):
            if self.sio.manager.is_connected(sid, "/"):
                break
            await asyncio.sleep(0.005)
        else:
            return
        snapshot = self.room.snapshot()
        if snapshot is not None:
            await self.sio.emit("gameStateUpdate", snapshot, to=sid)
        update = self.room.player_update(player_id)
        if update is not None:
            await self.sio.emit("playerUpdate", update, to=sid)

    async def _on_disconnect(self, sid: str, *reason: Any) -> None:
        player_id = self._sid_player.pop(sid, None)
        if player_id is not None:
            sids = self._player_sids.get(player_id, set())
            sids.discard(sid)
            if not sids:
                self._player_sids.pop(player_id, None)
                if player_id.startswith(ANON_PREFIX):  # nobody can come back as this one
                    self.room.forget(player_id)
        self.room.connected = len(self._sid_player)

    def _order_handler(self, kind: OrderKind):
        async def handler(sid: str, *args: Any) -> dict[str, Any]:
            # tolerate the two-argument (trace, payload) form: the payload is last
            return await self._order(sid, kind, args[-1] if args else None)

        return handler

    async def _order(self, sid: str, kind: OrderKind, data: Any) -> dict[str, Any]:
        player_id = self._sid_player.get(sid)
        if player_id is None:
            return {"success": False, "reason": "unknown_player", "message": "not connected"}
        sub = self.room.submit(player_id, kind, data)
        if sub.ack is not None and sub.ack.get("reason") == "bad_request":
            log.warning(
                "sim_bad_order", player=player_id, kind=str(kind), detail=sub.ack["message"]
            )
        await self._dispatch(sub.outputs)
        if sub.ack is not None:
            return sub.ack
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[sub.order_id] = fut
        return await fut


def _player_key(raw: str) -> str:
    return raw if raw.startswith(PLAYER_PREFIX) else player_id_for(raw)


def build_app(sim: SimServer) -> web.Application:
    """The aiohttp application: Socket.IO at ``/socket.io/``, ``/health``, ``/ledger/{player}``."""
    app = web.Application()
    sim.sio.attach(app)

    async def health(_request: web.Request) -> web.Response:
        body = {
            **sim.room.health(),
            "speed": sim.speed,
            "stepErrors": sim.step_errors,
            "refusedConnections": sim.refused_connections,
        }
        if sim.deterministic:
            body["seed"] = sim.seed
        return web.json_response(body)

    async def ledger(request: web.Request) -> web.Response:
        entry = sim.room.ledger(_player_key(request.match_info["player"]))
        if entry is None:
            return web.json_response({"error": "unknown player"}, status=404)
        return web.json_response(entry)

    app.router.add_get("/health", health)
    app.router.add_get("/ledger/{player}", ledger)
    add_page_routes(app)  # the replica game page at / (rugsd.daemon.sim.page)
    return app
