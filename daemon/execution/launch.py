"""Launching Debian's Chromium through Playwright with a persistent, private profile.

``playwright install`` cannot run here (no download), so Chromium is always
``BrowserConfig.executable_path``. The profile (``DATA_DIR/browser-profile``, mode 0700)
keeps the venue login between runs: ``rugsd login`` fills it once, the executor reuses it.
Two Chromium instances cannot share one profile, so login and trading take turns.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import structlog
from playwright.async_api import Error as PlaywrightError

from rugsd.daemon.config import BrowserConfig

log = structlog.get_logger(__name__)

PROFILE_DIR_NAME = "browser-profile"
VIEWPORT = {"width": 960, "height": 900}
# what a dying browser or page raises at us
BROWSER_ERRORS = (PlaywrightError, TimeoutError, OSError)


def profile_dir(data_dir: Path, name: str = PROFILE_DIR_NAME) -> Path:
    """``data_dir/name``, created if needed and (re)set to mode 0700 (it holds a login)."""
    path = Path(data_dir) / name
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def launch_options(cfg: BrowserConfig, headless: bool | None = None) -> dict[str, Any]:
    """Keyword arguments of ``launch_persistent_context`` from the config."""
    return {
        "executable_path": cfg.executable_path,
        "headless": cfg.headless if headless is None else headless,
        "args": list(cfg.args),
        "viewport": VIEWPORT,
        # Ctrl-C reaches our whole process group: the driver must not close the browser
        # under us (we close it ourselves, after the orders in flight are settled)
        "handle_sigint": False,
    }


async def launch_context(
    playwright: Any, cfg: BrowserConfig, profile: Path, headless: bool | None = None
) -> Any:
    """A persistent Chromium context on ``profile`` (raises ``playwright`` errors)."""
    if not Path(cfg.executable_path).exists():
        raise FileNotFoundError(f"no Chromium at {cfg.executable_path} (browser.executable_path)")
    return await playwright.chromium.launch_persistent_context(
        user_data_dir=str(profile), **launch_options(cfg, headless)
    )


def browser_pids(profile: Path) -> list[int]:
    """Pids of the main Chromium process(es) running on ``profile`` (Linux ``/proc``).

    Used to tell whether our browser is still alive and, in fault-injection tests, to end
    exactly the process we started (matched by its unique profile directory).
    """
    needle = f"--user-data-dir={Path(profile)}"
    pids: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        decoded = [a.decode(errors="replace") for a in args if a]
        if needle in decoded and not any(a.startswith("--type=") for a in decoded):
            pids.append(int(entry.name))
    return pids


def has_display() -> bool:
    """A headed browser needs an X11 or Wayland display."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
