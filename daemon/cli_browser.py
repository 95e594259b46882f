"""Browser commands: ``rugsd login`` and ``rugsd record-human``.

- ``rugsd login [--url URL] [--data-dir DIR]`` opens a visible Chromium on the venue
  (``live.venue_url``) with the persistent profile ``DATA_DIR/browser-profile`` (0700) so
  a person logs in once; the live executor reuses that session. Close the window (or
  Ctrl-C) when done. Needs a display: without one it refuses with one line.
- ``rugsd record-human`` records human demonstrations (the same as ``rugsd record
  --human``; see ``rugsd.daemon.execution.human``).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from rugsd.daemon.config import load_settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``login`` and ``record-human``."""
    login = sub.add_parser("login", help="log in to the venue once in the browser profile",
                           description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    login.add_argument("--url", help="venue page (default: live.venue_url)")
    login.add_argument("--data-dir", type=Path, help="data folder (default: general.data_dir)")
    login.set_defaults(func=run_login)

    from rugsd.daemon.execution.human import add_human_arguments, run_human

    human = sub.add_parser("record-human",
                           help="record your button presses on the venue page (demonstrations)")
    add_human_arguments(human)
    human.set_defaults(func=run_human, human=True)


def run_login(args: argparse.Namespace) -> int:
    """Open the headed browser until its window closes; 2 when there is no display."""
    from rugsd.daemon.execution.launch import has_display

    if not has_display():
        print("rugsd login: no display (DISPLAY/WAYLAND_DISPLAY unset): a person must see "
              "the browser to log in; run it in a desktop session or with X forwarding",
              file=sys.stderr)
        return 2
    settings = load_settings()
    data_dir = Path(args.data_dir or settings.general.data_dir)
    url = args.url or settings.live.venue_url
    try:
        return asyncio.run(_login(settings, url, data_dir))
    except FileNotFoundError as err:
        print(f"rugsd login: {err}", file=sys.stderr)
        return 1


async def _login(settings, url: str, data_dir: Path) -> int:
    from playwright.async_api import async_playwright

    from rugsd.daemon.execution.launch import BROWSER_ERRORS, launch_context, profile_dir

    profile = profile_dir(data_dir)
    print(f"rugsd login: log in on {url}, then close the window (profile {profile})",
          flush=True)
    closed = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, closed.set)
    async with async_playwright() as pw:
        context = await launch_context(pw, settings.browser, profile, headless=False)
        context.on("close", lambda *_: closed.set())
        page = context.pages[0] if context.pages else await context.new_page()
        page.on("close", lambda *_: closed.set())
        await page.goto(url, wait_until="domcontentloaded")
        await closed.wait()
        try:
            await asyncio.wait_for(context.close(), 10)
        except BROWSER_ERRORS as err:  # the window is already gone
            print(f"rugsd login: browser closed ({type(err).__name__})", file=sys.stderr)
    print("rugsd login: profile saved", flush=True)
    return 0
