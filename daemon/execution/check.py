"""``rugsd browser check``: resolve every control of the selector map on the venue page,
without clicking anything — the preflight of live mode.

It opens the page in the persistent browser profile (logged in or not; the same profile
``rugsd login`` filled and the executor uses), installs the executor's in-page helper,
and resolves each control through ``controls.resolve_controls`` — the executor's own
resolution path: a control passes when its selector matches exactly one visible element
whose text matches the control's pattern. The page's websocket tells whether it is
logged in (a ``playerUpdate`` of our player). Controls that appear late (the sidebet
banner after login) are retried until ``wait_s``.

``check_page`` returns a ``CheckReport``; ``render`` prints it as a rich table;
``preflight_problem`` is the one-line refusal of ``rugsd run --live``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rugsd.daemon.config import BrowserConfig
from rugsd.daemon.events import PlayerUpdate
from rugsd.daemon.execution.controls import Resolution, check_of, resolve_controls
from rugsd.daemon.execution.launch import BROWSER_ERRORS, launch_context, profile_dir
from rugsd.daemon.execution.page_feed import PageFeed
from rugsd.daemon.execution.selectors import merged, merged_expect

JS_DIR = Path(__file__).with_name("js")
NAV_TIMEOUT_MS = 15_000
POLL_S = 0.25


@dataclass
class CheckReport:
    """What the page showed: one ``Resolution`` per control, and who is logged in."""

    url: str
    controls: list[Resolution] = field(default_factory=list)
    player_id: str | None = None  # from the page's playerUpdate (None: not logged in)
    cash_sol: float | None = None
    error: str | None = None  # the page could not be opened at all
    seconds: float = 0.0

    @property
    def failing(self) -> list[Resolution]:
        """Controls that do not resolve to exactly one visible, matching element."""
        return [r for r in self.controls if not r.ok]

    @property
    def ok(self) -> bool:
        """The page opened and every control resolved."""
        return self.error is None and bool(self.controls) and not self.failing

    def to_json(self) -> dict[str, Any]:
        """The machine form (``--json``)."""
        return {
            "url": self.url,
            "ok": self.ok,
            "error": self.error,
            "logged_in": self.player_id is not None,
            "player_id": self.player_id,
            "cash_sol": self.cash_sol,
            "seconds": round(self.seconds, 2),
            "controls": [asdict(r) | {"ok": r.ok} for r in self.controls],
            "failing": [r.name for r in self.failing],
        }


async def check_page(cfg: BrowserConfig, url: str, data_dir: Path, *, wait_s: float = 5.0,
                     headless: bool | None = True) -> CheckReport:
    """Open ``url`` in the profile under ``data_dir`` and resolve every control."""
    from playwright.async_api import async_playwright

    started = time.monotonic()
    report = CheckReport(url)
    selectors = merged(cfg.selectors)
    expect = merged_expect(cfg.expect)

    def on_event(event: Any, _raw: Any) -> None:
        if isinstance(event, PlayerUpdate) and report.player_id is None:
            report.player_id = event.player_id or "?"
            report.cash_sol = event.cash

    try:
        async with async_playwright() as pw:
            context = await launch_context(pw, cfg, profile_dir(data_dir), headless)
            try:
                await context.add_init_script((JS_DIR / "exec.js").read_text())
                page = context.pages[0] if context.pages else await context.new_page()
                PageFeed(on_event).attach(page)
                await page.goto(url, wait_until="domcontentloaded", timeout=NAV_TIMEOUT_MS)
                report.controls = await _resolve_all(page, selectors, expect, wait_s)
            finally:
                await asyncio.wait_for(context.close(), 10)
    except (*BROWSER_ERRORS, FileNotFoundError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        report.error = first[:300]
    report.seconds = time.monotonic() - started
    return report


async def _resolve_all(page: Any, selectors: dict[str, str], expect: dict[str, str],
                       wait_s: float) -> list[Resolution]:
    """Resolve every control; retry the failing ones until ``wait_s`` has passed."""
    deadline = time.monotonic() + wait_s
    found: dict[str, Resolution] = {}
    while True:
        specs = [(name, sel, check_of(name, expect)) for name, sel in selectors.items()
                 if name not in found or not found[name].ok]
        for res, handle in await resolve_controls(page, specs):
            if handle is not None:
                await handle.dispose()
            found[res.name] = res
        if all(r.ok for r in found.values()) or time.monotonic() >= deadline:
            return [found[n] for n in selectors]
        await asyncio.sleep(POLL_S)


def live_preflight(settings: Any, data_dir: Path) -> str | None:
    """``rugsd run --live``'s preflight: check ``live.venue_url`` in the profile under
    ``data_dir``; why live mode must not start (one line), or None."""
    report = asyncio.run(check_page(settings.browser, settings.live.venue_url, data_dir))
    return preflight_problem(report)


def preflight_problem(report: CheckReport) -> str | None:
    """Why live mode must not start on this page (one line), or None."""
    if report.error is not None:
        return f"browser check could not open {report.url}: {report.error}"
    if not report.controls:
        return f"browser check found no controls on {report.url}"
    if report.failing:
        bad = ", ".join(f"{r.name} ({r.problem})" for r in report.failing)
        return f"browser check failed on {report.url}: {bad} (see `rugsd browser check`)"
    return None


def render(report: CheckReport, console: Any) -> None:
    """The report as a rich table, the selectors of failing controls, one verdict line."""
    from rich.markup import escape
    from rich.table import Table

    if report.error is not None:
        console.print(f"[red]cannot open {escape(report.url)}[/red]: {escape(report.error)}")
        return
    table = Table(title=f"controls on {escape(report.url)}", title_justify="left")
    table.add_column("control")
    table.add_column("found", justify="right")
    table.add_column("visible", justify="right")
    table.add_column("text", overflow="fold")
    table.add_column("expects", overflow="fold")
    table.add_column("result", overflow="fold")
    for r in report.controls:
        verdict = "[green]ok[/green]" if r.ok else f"[red]{escape(r.problem)}[/red]"
        table.add_row(r.name, str(r.matches), str(r.visible), escape(r.text or ""),
                      escape(f"/{r.expect}/i" if r.expect else "an <input>"), verdict)
    console.print(table)
    if report.player_id is not None:
        console.print(f"page account: {escape(report.player_id)}, cash {report.cash_sol:.4f} "
                      "SOL (the page received a playerUpdate)")
    else:
        console.print("page account: none (no playerUpdate on the page: not logged in)")
    failing = report.failing
    for r in failing:
        console.print(f"  {r.name}: {escape(r.selector)}", soft_wrap=True)
    if failing:
        console.print(f"[red]FAIL[/red]: {len(failing)} of {len(report.controls)} controls do "
                      "not resolve to exactly one visible element with the expected text: "
                      + ", ".join(r.name for r in failing))
    else:
        console.print(f"[green]OK[/green]: all {len(report.controls)} controls resolve "
                      "to exactly one visible element with the expected text")
