"""``rugsd tui --web``'s guard and command, without a browser (the browser test is in
tests/e2e/test_tui_web_live.py): loopback only, its own host and origin only, one TUI process
per session started with the daemon's socket."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import make_mocked_request

from rugsd.tui.web import HOST, TuiWebServer, tui_command


def _req(path: str, host: str, origin: str | None = None):
    headers = {"Host": host} | ({"Origin": origin} if origin else {})
    return make_mocked_request("GET", path, headers=headers)


def test_tui_web_serves_only_its_loopback_host_and_origin(tmp_path: Path):
    server = TuiWebServer(tmp_path / "control.sock", port=8767)
    assert server.host == HOST == "127.0.0.1"
    assert server.public_url == "http://127.0.0.1:8767"
    for host in ("127.0.0.1:8767", "localhost:8767"):
        assert server.request_allowed(_req("/", host)) is None
        assert server.request_allowed(_req("/ws", host, f"http://{host}")) is None
    # DNS rebinding: a foreign name resolving to 127.0.0.1
    assert "not allowed" in server.request_allowed(_req("/", "evil.example:8767"))
    assert "not allowed" in server.request_allowed(_req("/", "127.0.0.1:9999"))
    # cross-site websocket: any page may try ws://127.0.0.1 — only our own origin passes
    for origin in ("http://evil.example", "null", None, "http://127.0.0.1:9999"):
        assert "origin" in server.request_allowed(_req("/ws", "127.0.0.1:8767", origin))


def test_tui_web_behind_a_proxy_allows_the_public_url_too(tmp_path: Path):
    server = TuiWebServer(tmp_path / "control.sock", port=8767,
                          public_url="https://ops.example.org")
    for host in ("ops.example.org", "ops.example.org:443"):
        assert server.request_allowed(_req("/ws", host, f"https://{host}")) is None
    assert server.request_allowed(_req("/", "ops.example.org:80")) is not None
    assert server.request_allowed(_req("/ws", "ops.example.org", "http://ops.example.org"))
    assert server.request_allowed(_req("/", "127.0.0.1:8767")) is None


@pytest.mark.parametrize("name", ["control.sock", "dir with space/control.sock"])
def test_tui_web_runs_the_tui_on_the_daemons_socket(tmp_path: Path, name: str):
    sock = tmp_path / name
    argv = shlex.split(tui_command(sock, "tui:alice@web"))
    assert argv == [sys.executable, "-m", "rugsd.tui", "--socket", str(sock.resolve()),
                    "--who", "tui:alice@web"]
