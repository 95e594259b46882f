"""Recording human demonstrations: ``rugsd record --human`` (or ``rugsd record-human``).

Opens the venue page in the persistent profile — headed when a display exists, headless
otherwise (tests) — and records every press of a venue control as a ``ButtonEvent``
(``daemon.execution.buttons``) into ``DIR/button_events/*.parquet`` (default DIR:
``DATA_DIR/dataset``). The capture happens in the page: an init script taps the page's
websocket for the game/account state and a capture-phase click listener reports each
press, with that state, through an exposed binding, so the context is the page's state
at the click, before the site reacts to it.

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

import structlog

from daemon.config import BrowserConfig, load_settings
from daemon.execution.buttons import ButtonEvent, ButtonEventWriter, Sequencer
from daemon.execution.launch import BROWSER_ERRORS, has_display, launch_context, profile_dir
from daemon.execution.selectors import BET_INPUT, classifier_table, merged

log = structlog.get_logger(__name__)

JS_DIR = Path(__file__).with_name("js")
BINDING = "__rugsdButton"


def tap_script(selectors: dict[str, str]) -> str:
    """The in-page capture script configured with the selector map."""
    bet = selectors.get(BET_INPUT, "")
    cfg = {
        "table": classifier_table(selectors),
        # only a plain CSS selector can be used by document.querySelector in the page
        "betInput": bet if ":text" not in bet and ">>" not in bet else 'input[type="number"]',
        "binding": BINDING,
    }
    return (JS_DIR / "tap.js").read_text().replace("/*CONFIG*/ {}", json.dumps(cfg))


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
        self.selectors = merged(cfg.selectors)
        self.events: list[ButtonEvent] = []
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
            await self._context.add_init_script(tap_script(self.selectors))
            pages = self._context.pages
            self.page = pages[0] if pages else await self._context.new_page()
            self.page.on("close", lambda *_: self.closed.set())
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
        """Write what is buffered, close the browser; the Parquet parts written."""
        parts = self.writer.close()
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
    from daemon import logs

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
                      "dropped": rec.dropped, "files": [str(p) for p in parts]}))
    return 0
