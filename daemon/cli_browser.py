"""Browser commands: ``rugsd login``, ``rugsd browser check`` and ``rugsd record-human``.

- ``rugsd login [--url URL] [--data-dir DIR]`` opens a visible Chromium on the venue
  (``live.venue_url``) with the persistent profile ``DATA_DIR/browser-profile`` (0700) so
  a person logs in once; the live executor reuses that session. Close the window (or
  Ctrl-C) when done. Needs a display: without one it refuses with one line.
- ``rugsd browser check [--url URL] [--json] [--wait S]`` opens the venue page (logged
  in or not) in the same profile, resolves every control of the selector map without
  clicking, and shows which resolve to exactly one visible element saying what it
  should; exit 1 when any does not (``rugsd run --live`` refuses then), 2 when the page
  cannot be opened.
- ``rugsd record-human`` records human demonstrations (the same as ``rugsd record
  --human``; see ``rugsd.daemon.execution.human``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
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

    browser = sub.add_parser("browser", help="browser tools: check the venue page's controls",
                             description=__doc__,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    tools = browser.add_subparsers(dest="browser_command", metavar="TOOL", required=True)
    check = tools.add_parser(
        "check", help="resolve every control of the selector map on the page, click nothing",
        description="Open the venue page (default live.venue_url) in the browser profile and "
                    "resolve every control of the selector map without clicking. Exit 0 when "
                    "each resolves to exactly one visible element with the expected text, 1 "
                    "when any does not, 2 when the page cannot be opened. Example: "
                    "rugsd browser check --url http://127.0.0.1:8765/?player=me")
    check.add_argument("--url", help="venue page (default: live.venue_url)")
    check.add_argument("--data-dir", type=Path, help="data folder (default: general.data_dir)")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.add_argument("--wait", type=float, default=5.0, metavar="S",
                       help="retry failing controls this long (late banners); default 5")
    check.set_defaults(func=run_check)

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


def run_check(args: argparse.Namespace) -> int:
    """``rugsd browser check``: 0 all controls resolve, 1 some do not, 2 no page."""
    from rich.console import Console

    from rugsd.daemon.execution.check import check_page, render

    settings = load_settings()
    data_dir = Path(args.data_dir or settings.general.data_dir)
    url = args.url or settings.live.venue_url
    report = asyncio.run(check_page(settings.browser, url, data_dir, wait_s=max(0.0, args.wait)))
    if args.json:
        sys.stdout.write(json.dumps(report.to_json(), sort_keys=True) + "\n")
    else:
        render(report, Console())
    if report.error is not None:
        return 2
    return 0 if report.ok else 1
