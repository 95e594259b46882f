"""The replica game page served by ``rugsd sim``: the real site's trading UI shape, offline.

``GET /`` returns the page; ``GET /static/{name}`` its script, the vendored Socket.IO
client (``socket.io.min.js`` 4.8.4, MIT, licence header kept; full licence in
``static/socket.io-client.LICENSE``) and the stylesheet. Nothing comes from a CDN.

The controls carry the real site's class-name patterns: CSS-module names with a hashed
suffix (``_buttonSection_<hash>``, ``_controlBtn_<hash>``, ``_clearButton_<hash>``,
``_percentageBtn_<hash>``) and the plain ``bet-button``. The suffix is derived from the
page's own script, so it changes whenever the page changes — like a real build — and the
executor's selectors (``rugsd.daemon.execution.selectors``) must match by pattern, not by name.
Each page session is one player (``?player=NAME``, else a name kept in localStorage).
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).with_name("static")
STATIC_FILES = {
    "app.js": "application/javascript",
    "socket.io.min.js": "application/javascript",
    "style.css": "text/css",
    "socket.io-client.LICENSE": "text/plain",
}
BET_ADJUST = ("+0.001", "+0.01", "+0.1", "+1", "1/2", "X2", "MAX")
ADJUST_ACT = {
    "+0.001": "inc-0.001",
    "+0.01": "inc-0.01",
    "+0.1": "inc-0.1",
    "+1": "inc-1",
    "1/2": "half",
    "X2": "double",
    "MAX": "max",
}
PERCENTAGES = (10, 25, 50, 100)


def build_hash() -> str:
    """The hashed class-name suffix of this build (5 hex chars of the script's SHA-256)."""
    digest = hashlib.sha256((STATIC_DIR / "app.js").read_bytes()).hexdigest()
    return digest[:5]


def render_index(suffix: str, title: str = "rugsd sim") -> str:
    """The page's HTML with CSS-module class names ending in ``suffix``."""

    def c(name: str) -> str:
        return f"_{name}_{suffix}"

    adjust = "\n".join(
        f'        <button class="{c("controlBtn")}" data-act="{ADJUST_ACT[label]}">'
        f"{html.escape(label)}</button>"
        for label in BET_ADJUST
    )
    pcts = "\n".join(
        f'        <button class="{c("percentageBtn")}{" active" if p == 100 else ""}" '
        f'data-act="pct-{p}">{p}%</button>'
        for p in PERCENTAGES
    )
    stats = "\n".join(
        f'      <div class="{c("stat")}"><label>{label}</label>'
        f'<span data-field="{name}">–</span></div>'
        for label, name in (
            ("Player", "player"),
            ("Feed", "connection"),
            ("Game", "game"),
            ("Phase", "phase"),
            ("Tick", "tick"),
            ("Price", "price"),
            ("Balance", "balance"),
            ("Position", "position"),
            ("Avg cost", "avg"),
            ("Sidebet", "sidebet"),
        )
    )
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{html.escape(title)}</title>
  <link rel="stylesheet" href="/static/style.css">
</head>
<body>
  <div class="{c("app")}">
    <canvas class="{c("chart")}" width="720" height="280"></canvas>
    <section class="{c("stats")}">
{stats}
    </section>
    <section class="{c("tradePanel")}">
      <div class="{c("betRow")}">
        <input type="number" class="{c("betInput")}" min="0" step="0.001" value="0">
        <button class="{c("clearButton")}" data-act="clear">X</button>
      </div>
      <div class="{c("buttonSection")}">
{adjust}
      </div>
      <div class="{c("percentageSection")}">
{pcts}
      </div>
      <div class="{c("actionSection")}">
        <button class="bet-button {c("buyButton")}" data-act="buy">BUY</button>
        <button class="bet-button {c("sellButton")}" data-act="sell">SELL</button>
      </div>
      <div class="{c("sidebetSection")}">
        <button class="{c("sidebetButton")}" data-act="sidebet">SIDEBET</button>
      </div>
      <div class="{c("toast")}" role="status"></div>
    </section>
  </div>
  <script src="/static/socket.io.min.js"></script>
  <script src="/static/app.js"></script>
</body>
</html>
"""


def add_page_routes(app: web.Application, suffix: str | None = None) -> None:
    """Serve the replica page at ``/`` and its assets at ``/static/{name}``."""
    index = render_index(suffix or build_hash()).encode()
    cache: dict[str, bytes] = {}

    async def page(_request: web.Request) -> web.Response:
        return web.Response(body=index, content_type="text/html", charset="utf-8")

    async def static(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        ctype = STATIC_FILES.get(name)
        if ctype is None:  # only the listed files: no path traversal possible
            raise web.HTTPNotFound()
        body = cache.get(name)
        if body is None:
            body = cache[name] = (STATIC_DIR / name).read_bytes()
        return web.Response(
            body=body,
            content_type=ctype,
            charset="utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    app.router.add_get("/", page)
    app.router.add_get("/static/{name}", static)
