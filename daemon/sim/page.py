"""The replica game page served by ``rugsd sim``: the real rugs.fun trading page, offline.

``GET /`` returns the page; ``GET /static/{name}`` its script, the vendored Socket.IO
client (``socket.io.min.js`` 4.8.4, MIT, licence header kept; full licence in
``static/socket.io-client.LICENSE``) and the stylesheet. Nothing comes from a CDN.

The DOM follows the real page (screenshots in ``../shared/data/real/ui/``, class names
as a public client of the real page found them, DESIGN.md §1), not our idea of it:

- CSS-module class names as a Vite build emits them, ``_<name>_<hash>_<n>`` (the real
  ``_percentageBtn_1mzic_139``): the hash changes with the page's own files, like a new
  build, so selectors must match by pattern (``[class*="_name_"]``);
- the bet row ``_amountInputContainer_``: the number input, then ``_inputActions_`` with
  ``X`` (``_clearButton_``), ``+0.001`` ``+0.01`` ``+0.1`` ``+1`` ``1/2`` ``X2`` ``MAX``
  (``_controlBtn_``) and the balance chip;
- the sell row ``_sellControlButtonsContainer_``: two icon buttons (a bot and a
  lightning bolt) *before* ``10%`` ``25%`` ``50%`` ``100%`` (``_percentageBtn_``), and
  a percentage slider;
- ``_buttonsRow_`` with two ``div._buttonSection_``: BUY, whose text is "BUY" over the
  amount ("+0.002 SOL"), then SELL;
- the sidebet: a "5X · Rug in 10s? Win 0.01 SOL" banner (``sidebet-container`` /
  ``sidebet-banner``) over the chart ending in the round ``.bet-button`` badge
  "BET 0.002 SOL"; while a sidebet is open the badge gives way to its countdown;
- a 5-tick candle chart with the multiplier, "Last 100" counters, the last games' peaks,
  the leaderboard, and the presale overlay ("PRESALE … Next round in… 4.70s").

Each page session is one logged-in player (``?player=NAME``, else a name kept in
localStorage); ``?guest=1`` shows the logged-out page (a Connect button, no balance, no
sidebet banner, "Authentication required" on a trade). A small footer, which the real
page does not have, shows the replica's own state for people and tests.
"""

from __future__ import annotations

import hashlib
import html
import zlib
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
HISTORY_TILES = 10
# the two icon buttons of the sell row (a bot and a lightning bolt), as inline SVG
BOT_SVG = (
    '<svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">'
    '<rect x="2" y="4" width="12" height="9" rx="3" fill="#c084fc"/>'
    '<circle cx="6" cy="8.5" r="1.5" fill="#1e1b4b"/><circle cx="10" cy="8.5" r="1.5" '
    'fill="#1e1b4b"/><rect x="7.3" y="1" width="1.4" height="3" fill="#c084fc"/></svg>'
)
BOLT_SVG = (
    '<svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">'
    '<path d="M9 1 3 9h4l-1 6 6-8H8z" fill="#f97316"/></svg>'
)
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def build_hash() -> str:
    """This build's hash (5 base-36 characters of the page files' SHA-256)."""
    digest = hashlib.sha256()
    for name in ("app.js", "style.css"):
        digest.update((STATIC_DIR / name).read_bytes())
    return _base36(digest.digest())


def _base36(data: bytes, width: int = 5) -> str:
    n = int.from_bytes(data[:8], "big")
    out = ""
    for _ in range(width):
        n, r = divmod(n, 36)
        out += _B36[r]
    return out


def module_class(build: str, module: str, name: str) -> str:
    """``_<name>_<hash>_<n>``: a CSS-module class name as a Vite build writes it (the hash
    per module file and build, ``n`` a line number in that file)."""
    suffix = _base36(hashlib.sha256(f"{build}/{module}".encode()).digest())
    line = zlib.crc32(f"{module}.{name}".encode()) % 400 + 1
    return f"_{name}_{suffix}_{line}"


def render_index(build: str, title: str = "rugs.fun replica · rugsd sim") -> str:
    """The page's HTML with the CSS-module class names of build ``build``."""

    def c(module: str, *names: str) -> str:
        return " ".join(module_class(build, module, n) for n in names)

    adjust = "\n".join(
        f'              <button class="{c("trade", "controlBtn")}" '
        f'data-act="{ADJUST_ACT[label]}">{html.escape(label)}</button>'
        for label in BET_ADJUST
    )
    pcts = "\n".join(
        f'            <button class="{c("trade", "percentageBtn")}" '
        f'data-act="pct-{p}">{p}%</button>'
        for p in PERCENTAGES
    )
    tiles = "\n".join(
        f'        <div class="{c("layout", "historyTile")}" data-tile="{i}"></div>'
        for i in range(HISTORY_TILES)
    )
    counters = "\n".join(
        f'        <div class="{c("layout", "counter")}"><span class="{c("layout", "badge")} '
        f'{c("layout", "badge" + x)}">{x}x</span><b data-field="count{x}">0</b></div>'
        for x in ("2", "10", "50")
    )
    footer = "\n".join(
        f'    <span>{label} <b data-field="{name}">–</b></span>'
        for label, name in (
            ("player", "player"),
            ("feed", "connection"),
            ("game", "game"),
            ("phase", "phase"),
            ("tick", "tick"),
            ("position", "position"),
            ("avg cost", "avg"),
            ("sidebet", "sidebet"),
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
<div id="root" class="{c("layout", "app")}">
  <header class="{c("layout", "header")}">
    <div class="{c("layout", "logo")}">RUGS.FUN<sup>BETA</sup></div>
    <div class="{c("layout", "account")}" data-ui="account">
      <span class="{c("layout", "userChip")}" data-field="username"></span>
      <button class="{c("layout", "connectButton")}" data-act="connect">Connect</button>
    </div>
  </header>
  <div class="{c("layout", "body")}">
    <aside class="{c("layout", "sidebar")}">
      <div class="{c("layout", "online")}"><i></i>Online (<span data-field="online">0</span>)</div>
      <div class="{c("layout", "chat")}"></div>
    </aside>
    <main class="{c("layout", "main")}">
      <div class="{c("layout", "statsRow")}">
        <div class="{c("layout", "last100")}"><label>Last 100</label>
{counters}
        </div>
        <div class="{c("layout", "history")}">
{tiles}
        </div>
      </div>
      <div class="{c("chart", "chartContainer")}">
        <canvas class="{c("chart", "chart")}" width="1100" height="460"></canvas>
        <div class="{c("chart", "multiplier")}" data-field="price">1.0000x</div>
        <div class="{c("chart", "presale")}" data-ui="presale" hidden>
          <div class="{c("chart", "presaleTitle")}">PRESALE</div>
          <div class="{c("chart", "presaleText")}">Buy a guaranteed position at
            <em>1.00X</em><br>before the round starts</div>
        </div>
        <div class="{c("chart", "nextRound")}" data-ui="next-round" hidden>
          <div>Next round in...</div><b data-field="countdown">0.00s</b>
        </div>
        <div class="{c("chart", "leaderboard")}" data-ui="leaderboard"></div>
        <div class="sidebet-container {c("sidebet", "container")}" data-ui="sidebet" hidden>
          <div class="sidebet-banner {c("sidebet", "banner")}" data-ui="sidebet-offer">
            <div class="{c("sidebet", "payout")}">5X</div>
            <div class="{c("sidebet", "text")}">
              <div>Rug in <span data-field="window">10s</span>?</div>
              <div class="{c("sidebet", "win")}">Win <span data-field="sidebet-win">0</span> SOL</div>
            </div>
            <div class="bet-button {c("sidebet", "betButton")}" data-act="sidebet">
              <span>BET</span><span data-field="sidebet-amount">0</span><span>SOL</span>
            </div>
          </div>
          <div class="sidebet-active {c("sidebet", "active")}" data-ui="sidebet-open" hidden>
            <div class="{c("sidebet", "countdown")}" data-field="sidebet-left">10s</div>
            <div class="{c("sidebet", "activeText")}">
              <div>Bet <span data-field="sidebet-stake">0</span> SOL</div>
              <div>TO WIN: <span data-field="sidebet-prize">0</span> SOL</div>
            </div>
          </div>
        </div>
      </div>
      <div class="{c("trade", "controlsRow")}">
        <div class="{c("trade", "betControls")}">
          <div class="{c("trade", "amountInputContainer")}">
            <input type="number" class="{c("trade", "amountInput")}" min="0" step="0.001"
                   placeholder="0.000" inputmode="decimal">
            <div class="{c("trade", "inputActions")}">
              <button class="{c("trade", "clearButton")}" data-act="clear">X</button>
{adjust}
              <div class="{c("trade", "balanceChip")}" data-ui="balance-chip">
                <i>≡</i><span data-field="balance">0.000</span><i>⌄</i>
              </div>
            </div>
          </div>
        </div>
        <div class="{c("trade", "sellControls")}">
          <div class="{c("trade", "sellControlButtonsContainer")}">
            <button class="{c("trade", "iconBtn")}" data-act="bot"
                    aria-label="Auto buy bot" title="Auto buy bot">{BOT_SVG}</button>
            <button class="{c("trade", "iconBtn")}" data-act="quick"
                    aria-label="Instant trades" title="Instant trades">{BOLT_SVG}</button>
{pcts}
          </div>
          <div class="{c("trade", "sliderContainer")}">
            <b data-field="sell-pct">100</b><span>%</span>
            <input type="range" class="{c("trade", "slider")}" min="1" max="100" value="100">
          </div>
        </div>
      </div>
      <div class="{c("trade", "buttonsRow")}">
        <div class="{c("trade", "buttonSection", "buy")}" data-act="buy">
          <div class="{c("trade", "buttonLabel")}">BUY</div><div
            class="{c("trade", "buttonAmount")}" data-field="buy-amount"></div>
        </div>
        <div class="{c("trade", "buttonSection", "sell")}" data-act="sell">
          <div class="{c("trade", "buttonLabel")}">SELL</div><div
            class="{c("trade", "buttonAmount")}" data-field="sell-amount"></div>
        </div>
      </div>
      <div class="{c("layout", "toasts")}" role="status" data-ui="toasts"></div>
    </main>
  </div>
  <footer class="{c("layout", "replicaInfo")}">
    <span>replica of rugs.fun (rugsd sim)</span>
{footer}
  </footer>
</div>
<script src="/static/socket.io.min.js"></script>
<script src="/static/app.js"></script>
</body>
</html>
"""


def add_page_routes(app: web.Application, build: str | None = None) -> None:
    """Serve the replica page at ``/`` and its assets at ``/static/{name}``."""
    index = render_index(build or build_hash()).encode()
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
