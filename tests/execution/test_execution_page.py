"""The replica page is served by the simulator itself: real-site class patterns, no CDN."""

from __future__ import annotations

import re

import aiohttp

from rugsd.daemon.sim.page import build_hash, render_index


async def test_page_and_assets_are_served_offline_with_hashed_class_names(sim):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sim.url}/") as r:
            html = await r.text()
            assert r.status == 200
        async with http.get(f"{sim.url}/static/socket.io.min.js") as r:
            client = await r.text()
        async with http.get(f"{sim.url}/static/..%2Fpage.py") as r:
            traversal = r.status

    suffix = build_hash()
    for name in ("buttonSection", "controlBtn", "clearButton", "percentageBtn"):
        assert f"_{name}_{suffix}" in html
    assert 'class="bet-button' in html and 'type="number"' in html
    assert re.findall(r'src="([^"]+)"', html) == ["/static/socket.io.min.js", "/static/app.js"]
    assert "http://" not in html and "https://" not in html
    assert client.startswith("/*!\n * Socket.IO v4.") and "MIT License" in client[:200]
    assert traversal == 404


def test_a_new_build_changes_every_hashed_class_name():
    a, b = render_index("aaaaa"), render_index("bbbbb")
    assert "_controlBtn_aaaaa" in a and "_controlBtn_aaaaa" not in b
    # exact labels: X (clear) and X2 (double) are distinct buttons
    assert ">X</button>" in a and ">X2</button>" in a
