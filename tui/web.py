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
import os
import shlex
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import textual_serve
from aiohttp import web
from textual_serve.server import Server

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


def _origin(url: str) -> tuple[str, str]:
    """(``host:port``, ``scheme://host:port``) of a URL."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or ""
    netloc = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
    return netloc, f"{parts.scheme}://{netloc}"


class TuiWebServer(Server):
    """textual-serve's server on loopback, with host and origin checks and no web fonts."""

    def __init__(self, sock_path: Path, port: int = DEFAULT_PORT,
                 public_url: str | None = None, who: str | None = None) -> None:
        super().__init__(
            tui_command(sock_path, who or web_who()), host=HOST, port=port, title="rugsd",
            public_url=public_url, templates_path=TEMPLATES, statics_path=STATICS,
        )
        self.sock_path = sock_path
        hosts, origins = set(), set()
        for url in (f"http://{HOST}:{port}", f"http://localhost:{port}", self.public_url):
            netloc, origin = _origin(url)
            hosts.add(netloc)
            origins.add(origin)
        self.allowed_hosts = frozenset(hosts)
        self.allowed_origins = frozenset(origins)

    def request_allowed(self, request: web.Request) -> str | None:
        """None when the request may go on, else why not."""
        host = request.headers.get("Host", "")
        if ":" not in host.rsplit("]", 1)[-1]:
            host += ":80"
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
                return web.Response(status=403, text=f"rugsd tui --web: {why}\n")
            return await handler(request)

        app.middlewares.append(guard)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """One line instead of textual-serve's banner."""
        self.console.print(
            f"rugsd tui --web: the TUI of {self.sock_path} on [bold]{self.public_url}[/] "
            "— no authentication: keep it on loopback. Ctrl-C stops this server "
            "(never the daemon).", highlight=False,
        )


def serve(sock_path: Path, port: int = DEFAULT_PORT, public_url: str | None = None) -> int:
    """Serve until Ctrl-C / SIGTERM."""
    TuiWebServer(sock_path, port, public_url).serve()
    return 0
