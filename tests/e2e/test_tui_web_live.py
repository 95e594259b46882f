"""``rugsd tui --web`` end to end: a real ``rugsd run --paper`` on the simulator, the real
``rugsd tui --web`` server (textual-serve, loopback), and Debian's Chromium through
Playwright — open the page, see the state, press k, confirm, and the daemon is KILLED
(its answer, its journal and the latch on disk say so; the daemon keeps running).

The terminal is drawn on a canvas, so the test reads what the browser was sent: the
websocket frames of the page, ANSI codes stripped. It also proves the guard: another Host
header or another websocket Origin gets 403.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from daemon_proc import PYTHON, DaemonProc, clean_env
from e2e_live import HOLD, holding_in_active, now_ms, until
from playwright.async_api import async_playwright

from rugsd.risk.killswitch import latch_path

CHROMIUM = "/usr/bin/chromium"
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]")

pytestmark = [pytest.mark.timeout(120), pytest.mark.browser]


def _port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, host: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=3) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0


@pytest.fixture
def web_tui(tmp_path: Path) -> Iterator[Callable[[DaemonProc], str]]:
    """``web_tui(daemon) -> url``: ``rugsd tui --web`` for that daemon, answering."""
    procs: list[subprocess.Popen] = []

    def start(d: DaemonProc) -> str:
        port = _port()
        log = (tmp_path / "web.log").open("ab")
        procs.append(subprocess.Popen(
            [PYTHON, "-m", "rugsd.daemon.cli", "tui", "--web", "--port", str(port),
             "--data-dir", str(d.data_dir)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=clean_env(), start_new_session=True,
        ))
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 20
        while _get(url) != 200:
            assert procs[-1].poll() is None, (tmp_path / "web.log").read_text()
            assert time.monotonic() < deadline, "rugsd tui --web did not answer in 20 s"
            time.sleep(0.1)
        return url

    yield start
    for proc in procs:  # SIGTERM: textual-serve ends its TUI sessions and exits
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("rugsd tui --web did not stop on SIGTERM")


async def test_tui_web_watch_and_kill_from_a_browser(
    live_daemon: Callable[..., DaemonProc], web_tui: Callable[[DaemonProc], str],
    tmp_path: Path,
) -> None:
    d = live_daemon(env=HOLD)
    url = web_tui(d)
    port = int(url.rsplit(":", 1)[1].strip("/"))

    # the guard: only requests for this loopback host, websockets only from this origin
    assert _get(url, host=f"evil.example:{port}") == 403
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"ws://127.0.0.1:{port}/ws",
                                  headers={"Origin": "http://evil.example"})
        assert refused.value.status == 403

    await until(lambda: holding_in_active(d.snapshot()), 20, "an open position", d)
    frames: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("websocket", lambda ws: ws.on(
                "framereceived",
                lambda p: frames.append(p.decode("utf-8", "replace") if isinstance(p, bytes)
                                        else p)))

            def screen() -> str:
                return ANSI.sub("", "".join(frames))

            await page.goto(url)
            # the state, as the browser received it
            await until(lambda: "● connected" in screen() and "ACTIVE" in screen(),
                        20, "the TUI's ACTIVE state in the browser", d)
            assert "PAPER" in screen() and "presale_target" in screen()
            await page.screenshot(path=str(tmp_path / "web-active.png"))

            await page.focus(".xterm-helper-textarea")
            seen = len(frames)
            await page.keyboard.press("k")
            await until(lambda: "KILL TRADING?" in ANSI.sub("", "".join(frames[seen:])),
                        10, "the kill confirmation in the browser", d)
            assert d.snapshot()["risk"]["state"] == "ACTIVE", "nothing before the confirm"
            pressed = now_ms()
            await page.keyboard.press("y")

            # the daemon is KILLED: its own state, its journal, the latch on disk
            await until(lambda: d.snapshot()["risk"]["state"] == "KILLED", 10,
                        "the daemon to be KILLED", d)
            kills = d.query("SELECT ts_ms, source FROM kill_events")
            assert len(kills) == 1 and kills[0][1] == "tui" and kills[0][0] >= pressed - 1
            who = d.query("SELECT who FROM operator_commands WHERE command = 'kill'")
            assert len(who) == 1 and who[0][0].startswith("tui:") and who[0][0].endswith("@web")
            assert latch_path(d.run_dir).exists()
            seen = len(frames)
            await until(lambda: "KILLED" in ANSI.sub("", "".join(frames[seen:])), 10,
                        "KILLED on the page", d)
            await page.screenshot(path=str(tmp_path / "web-killed.png"))
        finally:
            await browser.close()
    d.alive()  # the kill stops trading, never the daemon
    assert d.snapshot()["risk"]["kill_latched"] is True
