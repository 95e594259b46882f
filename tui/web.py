"""``rugsd tui --web``: the same Textual app in a browser, served by textual-serve.

Each browser tab gets its own TUI process (``python -m rugsd.tui --socket …``) whose
screen and keys travel over a websocket; the TUI inside is the terminal one, a client of
the control socket, so a kill from the browser is the same ``kill`` command.

It has NO authentication. So it binds 127.0.0.1 only, answers only requests addressed to
that host (a DNS-rebinding page gets 403), and accepts the websocket only from its own
origin — a web page the operator happens to have open cannot drive the TUI (browsers let
any page open a websocket to localhost). Behind an authenticating reverse proxy, pass
``--public-url`` (the address the browser uses), which becomes the one other allowed
host and origin.
"""

from __future__ import annotations

import getpass
import logging
import os
import shlex
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import textual_serve
from aiohttp import web
from textual_serve.server import Server

log = logging.getLogger("rugsd.tui.web")

HOST = "127.0.0.1"
DEFAULT_PORT = 8767
TEMPLATES = Path(__file__).resolve().parent / "templates"
STATICS = Path(textual_serve.__file__).resolve().parent / "static"


def web_who() -> str:
    """``tui:<user>@web`` for the journal's who column."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        user = str(os.getuid())
    return f"tui:{user}@web"


def tui_command(sock_path: Path, who: str) -> str:
    """The shell command textual-serve runs per browser session."""
    return shlex.join([sys.executable, "-m", "rugsd.tui", "--socket", str(sock_path.resolve()),
                       "--who", who])


def _allowed(url: str) -> tuple[set[str], set[str]]:
    """The Host headers and Origins a browser sends for ``url`` (with and without a
    default port)."""
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    port = parts.port or default
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    hosts = {f"{host}:{port}"} | ({host} if port == default else set())
    return hosts, {f"{parts.scheme}://{h}" for h in hosts}


class TuiWebServer(Server):
    """textual-serve's server on loopback, with host and origin checks and no web fonts."""

    def __init__(self, sock_path: Path, port: int = DEFAULT_PORT,
                 public_url: str | None = None, who: str | None = None) -> None:
        super().__init__(
            tui_command(sock_path, who or web_who()), host=HOST, port=port, title="rugsd",
            public_url=public_url, templates_path=TEMPLATES, statics_path=STATICS,
        )
        self.sock_path = sock_path
        hosts: set[str] = set()
        origins: set[str] = set()
        for url in (f"http://{HOST}:{port}", f"http://localhost:{port}", self.public_url):
            more_hosts, more_origins = _allowed(url)
            hosts |= more_hosts
            origins |= more_origins
        self.allowed_hosts = frozenset(hosts)
        self.allowed_origins = frozenset(origins)

    def request_allowed(self, request: web.Request) -> str | None:
        """None when the request may go on, else why not."""
        host = request.headers.get("Host", "")
        if host not in self.allowed_hosts:
            return f"host {host!r} not allowed"
        if request.path == "/ws":
            origin = request.headers.get("Origin", "")
            if origin not in self.allowed_origins:
                return f"websocket origin {origin!r} not allowed"
        return None

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()

        @web.middleware
        async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
            why = self.request_allowed(request)
            if why is not None:
                log.warning("refused %s %s: %s", request.method, request.path, why)
                return web.Response(status=403, text=f"rugsd tui --web: {why}\n")
            return await handler(request)

        app.middlewares.append(guard)
        return app

    def initialize_logging(self) -> None:
        """Plain lines (no access log of every static file): one per browser session."""
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                            datefmt="%H:%M:%S")
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One TUI session per browser tab; say when each starts and ends."""
        log.info("browser session started (%s)", request.remote)
        try:
            return await super().handle_websocket(request)
        finally:
            log.info("browser session ended (%s)", request.remote)

    async def on_startup(self, app: web.Application) -> None:
        """One line instead of textual-serve's banner."""
        self.console.print(
            f"rugsd tui --web: the TUI of {self.sock_path} on [bold]{self.public_url}[/] "
            "— no authentication: keep it on loopback. Ctrl-C stops this server "
            "(never the daemon).", highlight=False, soft_wrap=True,
        )


def serve(sock_path: Path, port: int = DEFAULT_PORT, public_url: str | None = None) -> int:
    """Serve until Ctrl-C / SIGTERM."""
    TuiWebServer(sock_path, port, public_url).serve()
    return 0
