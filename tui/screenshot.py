"""Write an SVG screenshot of the TUI's main screen with realistic fixed data.

    python -m rugsd.tui.screenshot [OUT.svg] [--size 100x30] [--killed] [--offline] [--candles]

Used for ``docs/tui.svg`` (README). No daemon is needed: the app runs unconnected and is
fed ``example_snapshot()`` from the protocol module.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
from pathlib import Path

from rugsd.daemon.control.protocol import example_snapshot
from rugsd.tui.app import RugsdTui

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "docs" / "tui.svg"


async def take(out: Path, size: tuple[int, int], killed: bool = False,
               offline: bool = False, candles: bool = False) -> Path:
    """Render the main screen at ``size`` and save it as SVG to ``out``."""
    app = RugsdTui("/nonexistent/control.sock", who="tui:docs@screenshot", connect=False)
    snap = copy.deepcopy(example_snapshot())
    if killed:
        snap["risk"].update(state="KILLED", kill_latched=True)
    async with app.run_test(size=size) as pilot:
        app.apply_snapshot(snap)
        if offline:
            app.set_offline("no control socket (daemon not running?)", 4)
        if candles:
            await pilot.press("c")
        await pilot.pause()
        out.parent.mkdir(parents=True, exist_ok=True)
        app.save_screenshot(filename=out.name, path=str(out.parent))
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--size", default="100x30", help="COLSxROWS")
    parser.add_argument("--killed", action="store_true")
    parser.add_argument("--offline", action="store_true")
    parser.add_argument("--candles", action="store_true", help="the 5-tick candle view")
    args = parser.parse_args(argv)
    cols, rows = (int(v) for v in args.size.lower().split("x"))
    path = asyncio.run(take(args.out, (cols, rows), args.killed, args.offline, args.candles))
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
