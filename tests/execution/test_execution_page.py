"""The replica page is served by the simulator itself, with the real page's DOM: hashed
CSS-module class names, BUY/SELL as the 1st/2nd ``_buttonSection_`` of ``_buttonsRow_``,
two icon buttons before the sell percentages, the sidebet ``.bet-button`` badge in its
banner — and no CDN."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import aiohttp

from rugsd.daemon.sim.page import build_hash, module_class, render_index


class Tree(HTMLParser):
    """A minimal DOM: (tag, class, text, children) nodes."""

    def __init__(self) -> None:
        super().__init__()
        self.root: dict = {"tag": "root", "cls": "", "text": "", "kids": []}
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = {"tag": tag, "cls": dict(attrs).get("class") or "", "text": "", "kids": []}
        self.stack[-1]["kids"].append(node)
        if tag not in ("input", "link", "meta", "br"):
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1]["kids"].append({"tag": tag, "cls": dict(attrs).get("class") or "",
                                       "text": "", "kids": []})

    def handle_endtag(self, tag):
        while len(self.stack) > 1:
            if self.stack.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for node in self.stack:
            node["text"] += data


def find(node: dict, pattern: str) -> list[dict]:
    """Every node whose class contains ``pattern`` (document order)."""
    out = [node] if any(pattern in c for c in node["cls"].split(" ")) else []
    for kid in node["kids"]:
        out += find(kid, pattern)
    return out


def text(node: dict) -> str:
    return re.sub(r"\s+", "", node["text"])


async def test_served_page_has_the_real_structure_and_no_cdn(sim):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sim.url}/") as r:
            html = await r.text()
            assert r.status == 200
        async with http.get(f"{sim.url}/static/socket.io.min.js") as r:
            client = await r.text()
        async with http.get(f"{sim.url}/static/..%2Fpage.py") as r:
            traversal = r.status
    tree = Tree()
    tree.feed(html)

    rows = find(tree.root, "_buttonsRow_")
    assert len(rows) == 1
    sections = [k for k in rows[0]["kids"] if "_buttonSection_" in k["cls"]]
    assert [s["tag"] for s in sections] == ["div", "div"]
    assert text(sections[0]).startswith("BUY") and text(sections[1]).startswith("SELL")
    sell_row = find(tree.root, "_sellControlButtonsContainer_")[0]["kids"]
    assert [k["tag"] for k in sell_row] == ["button"] * 6
    assert ["_iconBtn_" in k["cls"] for k in sell_row[:2]] == [True, True]
    assert [text(k) for k in sell_row[2:]] == ["10%", "25%", "50%", "100%"]
    actions = find(tree.root, "_inputActions_")[0]["kids"]
    assert [text(k) for k in actions[:8]] == ["X", "+0.001", "+0.01", "+0.1", "+1", "1/2", "X2",
                                             "MAX"]
    assert "_clearButton_" in actions[0]["cls"]
    banner = find(tree.root, "sidebet-banner")
    badge = find(banner[0], "bet-button")
    assert len(badge) == 1 and re.fullmatch(r"BET[0-9.]+SOL", text(badge[0]))
    assert find(tree.root, "sidebet-container") and "5X" in text(banner[0])

    assert re.findall(r'src="([^"]+)"', html) == ["/static/socket.io.min.js", "/static/app.js"]
    assert "http://" not in html.replace('http://www.w3.org/2000/svg', '')
    assert "https://" not in html
    assert client.startswith("/*!\n * Socket.IO v4.") and "MIT License" in client[:200]
    assert traversal == 404


def test_class_names_are_vite_css_module_names_that_change_with_the_build():
    build = build_hash()
    assert re.fullmatch(r"[0-9a-z]{5}", build)
    name = module_class(build, "trade", "percentageBtn")
    assert re.fullmatch(r"_percentageBtn_[0-9a-z]{5}_[0-9]+", name)  # like _percentageBtn_1mzic_139
    a, b = render_index("aaaaa"), render_index("bbbbb")
    in_a = set(re.findall(r"_controlBtn_[0-9a-z]{5}_[0-9]+", a))
    in_b = set(re.findall(r"_controlBtn_[0-9a-z]{5}_[0-9]+", b))
    assert len(in_a) == len(in_b) == 1 and in_a != in_b
    # exact labels: X (clear) and X2 (double) are distinct buttons
    assert ">X</button>" in a and ">X2</button>" in a
