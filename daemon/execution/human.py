"""Recording human demonstrations: ``rugsd record --human`` (or ``rugsd record-human``).

Opens the venue page in the persistent profile — headed when a display exists, headless
otherwise (tests) — and records every press of a venue control as a ``ButtonEvent``
(``rugsd.daemon.execution.buttons``) into ``DIR/button_events/*.parquet`` (default DIR:
``DATA_DIR/dataset``). The capture happens in the page: an init script taps the page's
websocket for the game/account state and a capture-phase click listener reports each
press, with that state, through an exposed binding, so the context is the page's state
at the click, before the site reacts to it.

The recorder also writes the game ticks the page sees (``TickWriter``) to
``DIR/human_ticks/*.parquet`` in the daemon's dataset tick schema, so that the training
side (``rugsd.training.demos``) can rebuild each press's observation from the price path.

For the lead's ``rugsd record``: ``add_human_arguments(parser)`` adds ``--human`` and its
options; ``run_human(args)`` runs it (exit code).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import structlog

from rugsd.daemon.config import BrowserConfig, load_settings
from rugsd.daemon.events import GameUpdate
from rugsd.daemon.execution.buttons import ButtonEvent, ButtonEventWriter, Sequencer, write_part
from rugsd.daemon.execution.launch import BROWSER_ERRORS, has_display, launch_context, profile_dir
from rugsd.daemon.execution.page_feed import PageFeed
from rugsd.daemon.execution.selectors import BET_INPUT, classifier_table, merged, merged_expect
from rugsd.daemon.game.rules import COOLDOWN_MS, TICK_MS
from rugsd.daemon.journal.dataset import TICKS_SCHEMA

log = structlog.get_logger(__name__)

JS_DIR = Path(__file__).with_name("js")
BINDING = "__rugsdButton"


def tap_script(selectors: dict[str, str], expect: dict[str, str] | None = None) -> str:
    """The in-page capture script configured with the selector map and text patterns."""
    bet = selectors.get(BET_INPUT, "")
    cfg = {
        "table": classifier_table(selectors, expect),
        # only a plain CSS selector can be used by document.querySelector in the page
        "betInput": bet if ":text" not in bet and ">>" not in bet else 'input[type="number"]',
        "binding": BINDING,
    }
    return (JS_DIR / "tap.js").read_text().replace("/*CONFIG*/ {}", json.dumps(cfg))


class TickWriter:
    """The game ticks the page receives → ``DIR/human_ticks/<session>-<part>.parquet``.

    Rows follow ``rugsd.daemon.journal.dataset.TICKS_SCHEMA`` (``phase`` ``active`` or
    ``rugged`` for the rug tick); ``run_id`` says where a row came from:
    ``<session>`` a tick event the page received (``ts_ms`` = receive time),
    ``<session>/backfill`` a tick filled from ``prices``/``partialPrices`` of a later
    event, ``<session>/history`` a tick of a finished game from ``gameHistory`` (its
    ``ts_ms`` reconstructed back-to-back from the carrying event's receive time: ordering
    only). Each (game, tick) is written once (first source wins).
    """

    MAX_GAMES = 64  # games whose written ticks are remembered (older ones are finished)

    def __init__(self, out_dir: Path, session_id: str, rows_per_file: int = 20_000) -> None:
        """Files go to ``out_dir/human_ticks/``."""
        self.dir = Path(out_dir) / "human_ticks"
        self.session_id = session_id
        self.rows_per_file = rows_per_file
        self.rows: list[tuple] = []
        self.parts: list[Path] = []
        self._seen: dict[str, set[int]] = {}

    def _add(self, source: str, ts_ms: int, game_id: str, tick: int, price: float,
             rugged: bool = False) -> None:
        ticks = self._seen.get(game_id)
        if ticks is None:
            ticks = self._seen[game_id] = set()
            while len(self._seen) > self.MAX_GAMES:
                self._seen.pop(next(iter(self._seen)))
        if tick in ticks:
            return
        ticks.add(tick)
        self.rows.append((source, int(ts_ms), game_id, int(tick), float(price),
                          "rugged" if rugged else "active"))

    def on_event(self, event: object, _raw: object = None) -> None:
        """A parsed page event (``PageFeed`` sink): keep its ticks."""
        if not isinstance(event, GameUpdate):
            return
        ts, gid, sid = event.ts_ms, event.game_id, self.session_id
        cursor = ts
        for game in event.history:  # newest first, back to back
            prices = game.prices
            if not prices:
                continue
            n = len(prices) - 1
            start = cursor - TICK_MS * (n + 2)
            for t, p in enumerate(prices):
                self._add(f"{sid}/history", start + t * TICK_MS, game.game_id, t, p, t == n)
            cursor = start - COOLDOWN_MS
        if event.active and event.tick is not None and event.price is not None:
            self._add(sid, ts, gid, event.tick, event.price, event.rugged)
        fill = [*enumerate(event.backfill or ()), *event.partial_prices]
        for t, p in fill:
            if event.tick is None or t < event.tick:
                self._add(f"{sid}/backfill", ts, gid, t, p)
        if len(self.rows) >= self.rows_per_file:
            self.flush()

    def flush(self) -> Path | None:
        """Write the buffered rows as one new part file (atomic rename)."""
        if not self.rows:
            return None
        columns = list(zip(*self.rows, strict=True))
        table = pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in
                                      zip(columns, TICKS_SCHEMA, strict=True)],
                                     schema=TICKS_SCHEMA)
        path = write_part(self.dir, self.session_id, len(self.parts), table)
        self.parts.append(path)
        self.rows = []
        return path

    def close(self) -> list[Path]:
        """Flush and return every part written."""
        self.flush()
        return list(self.parts)


class HumanRecorder:
    """A browser page whose control presses are recorded as ``ButtonEvent``s."""

    def __init__(
        self,
        cfg: BrowserConfig,
        url: str,
        out_dir: Path,
        data_dir: Path,
        *,
        headless: bool | None = None,
        session_id: str | None = None,
        on_event: Callable[[ButtonEvent], None] | None = None,
    ) -> None:
        """``headless`` None: headed when a display exists."""
        self.cfg = cfg
        self.url = url
        self.profile = profile_dir(Path(data_dir))
        self.headless = (not has_display()) if headless is None else headless
        self.session_id = session_id or time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        self.sequencer = Sequencer(self.session_id)
        self.writer = ButtonEventWriter(out_dir, self.session_id)
        self.ticks = TickWriter(out_dir, self.session_id)
        self.feed = PageFeed(self.ticks.on_event)
        self.selectors = merged(cfg.selectors)
        self.expect = merged_expect(cfg.expect)
        self.events: list[ButtonEvent] = []
        self.tick_parts: list[Path] = []
        self.dropped = 0
        self.on_event = on_event
        self.closed = asyncio.Event()
        self._pw: Any = None
        self._context: Any = None
        self.page: Any = None

    async def start(self) -> None:
        """Launch the browser, install the capture, open the venue page."""
        from playwright.async_api import async_playwright

        self._pw = await async_playwright().start()
        try:
            self._context = await launch_context(self._pw, self.cfg, self.profile, self.headless)
            self._context.on("close", lambda *_: self.closed.set())
            await self._context.expose_binding(BINDING, self._on_press)
            await self._context.add_init_script(tap_script(self.selectors, self.expect))
            pages = self._context.pages
            self.page = pages[0] if pages else await self._context.new_page()
            self.page.on("close", lambda *_: self.closed.set())
            self.feed.attach(self.page)
            await self.page.goto(self.url, wait_until="domcontentloaded")
        except Exception:
            await self.stop()
            raise
        log.info("human_recording", url=self.url, session=self.session_id,
                 headless=self.headless)

    def _on_press(self, _source: Any, snap: Any) -> None:
        if not isinstance(snap, dict):
            self.dropped += 1
            return
        ev = self.sequencer.event(snap)
        if ev is None:
            self.dropped += 1
            return
        self.events.append(ev)
        self.writer.add(ev)
        if self.on_event is not None:
            self.on_event(ev)

    async def stop(self) -> list[Path]:
        """Write what is buffered, close the browser; the ButtonEvent parts written
        (the tick parts are in ``tick_parts``)."""
        parts = self.writer.close()
        self.tick_parts = self.ticks.close()
        if self._context is not None:
            try:
                await asyncio.wait_for(self._context.close(), 10)
            except BROWSER_ERRORS as err:  # the person may have closed the window already
                log.warning("recorder_close_failed", error=repr(err))
            self._context = None
        if self._pw is not None:
            await self._pw.stop()
            self._pw = None
        return parts


def add_human_arguments(parser: argparse.ArgumentParser) -> None:
    """``--human`` and its options (``--url``, ``--out``, ``--data-dir`` may already exist)."""
    parser.add_argument("--human", action="store_true",
                        help="record your own button presses on the venue page (demonstrations)")
    existing = {a for action in parser._actions for a in action.option_strings}
    if "--url" not in existing:
        parser.add_argument("--url", help="venue page (default: live.venue_url)")
    if "--out" not in existing:
        parser.add_argument("--out", type=Path, help="output folder (default DATA_DIR/dataset)")
    if "--data-dir" not in existing:
        parser.add_argument("--data-dir", type=Path, help="data folder (default general.data_dir)")
    if "--duration" not in existing:
        parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    parser.add_argument("--headless", action="store_true",
                        help="no window even when a display exists (scripted sessions)")


def run_human(args: argparse.Namespace) -> int:
    """Record until the window is closed, SIGINT/SIGTERM or ``--duration``; print a summary."""
    settings = load_settings()
    from rugsd.daemon import logs

    logs.configure(settings.logging.format, settings.logging.level)
    duration = getattr(args, "duration", None)
    if duration is not None and duration <= 0:
        print("rugsd record: --duration must be > 0", file=sys.stderr)
        return 2
    data_dir = Path(getattr(args, "data_dir", None) or settings.general.data_dir)
    out = Path(getattr(args, "out", None) or data_dir / "dataset")
    url = getattr(args, "url", None) or settings.live.venue_url
    headless = True if getattr(args, "headless", False) else None
    try:
        return asyncio.run(_record(settings.browser, url, out, data_dir, headless, duration))
    except FileNotFoundError as err:
        print(f"rugsd record: {err}", file=sys.stderr)
        return 1


async def _record(cfg: BrowserConfig, url: str, out: Path, data_dir: Path,
                  headless: bool | None, duration: float | None) -> int:
    rec = HumanRecorder(cfg, url, out, data_dir, headless=headless)
    await rec.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(rec.closed.wait())]
    try:
        await asyncio.wait(waiters, timeout=duration, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
        parts = await rec.stop()
    print(json.dumps({"session": rec.session_id, "events": len(rec.events),
                      "dropped": rec.dropped, "files": [str(p) for p in parts],
                      "tick_files": [str(p) for p in rec.tick_parts]}))
    return 0
