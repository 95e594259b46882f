"""Human output (rich) of audits and of the fairness section, for ``rugsd audit`` and
``rugsd report``. Machine output is the JSON of ``offline.summarize`` / the report."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

RESULT_STYLES = {"verified": "green", "hash_mismatch": "bold white on red",
                 "path_mismatch": "bold white on red", "unverifiable": "yellow"}
MAX_GAME_ROWS = 30


def _pct(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}%}"


def _ci(ci: list[float] | None, digits: int = 2) -> str:
    return "—" if not ci else f"[{ci[0]:.{digits}%}, {ci[1]:.{digits}%}]"


def _p(p: float | None) -> str:
    return "—" if p is None else f"{p:.3g}"


def render_fairness(section: dict[str, Any], console: Console) -> None:
    """The house-edge meter: the verdict in plain words, then the four checks."""
    consistent = section.get("consistent")
    style = "green" if consistent else "bold red" if consistent is False else "yellow"
    console.print(Text("Fairness: ", style="bold") + Text(section["verdict"], style=style))
    if not section.get("games"):
        return
    table = Table(box=None, padding=(0, 1))
    for col in ("check", "rules", "seen", "95 % CI", "p", "n"):
        table.add_column(col, justify="left" if col == "check" else "right", no_wrap=True)
    h, f, s, c = (section["hazard"], section["geometric_fit"], section["sidebet"],
                  section["hold_cost"])
    table.add_row("hazard/tick", _pct(h["committed"]), _pct(h["estimate"]), _ci(h["ci95"]),
                  _p(h["p_value"]), f"{section['games']} games")
    chi = "—" if f["statistic"] is None else f"{f['statistic']:.1f} df {f['df']}"
    table.add_row("geometric χ²", "", chi, "", _p(f["p_value"]), f.get("note", ""))
    if f.get("ks_d") is not None:
        table.add_row("geometric KS", "", f"D {f['ks_d']:.3f}", "", _p(f["ks_p_value"]), "")
    table.add_row("sidebet hit", _pct(s["committed"], 1), _pct(s["rate"], 1),
                  _ci(s["ci95"], 1), _p(s["p_value"]), f"{s['windows']} windows")
    ours = s.get("ours")
    if ours:
        table.add_row("  ours", "", _pct(ours["rate"], 1), _ci(ours["ci95"], 1), "",
                      f"{ours['won'] + ours['lost']} bets")
    table.add_row("hold cost/tick", _pct(c["committed"], 3), _pct(c["estimate"], 3),
                  _ci(c["ci95"], 3), _p(c["p_value"]), f"{c['steps']} steps")
    console.print(table)
    console.print(Text(f"each check is judged at p < {section['alpha']}/{section['checks']} "
                       "(Bonferroni); games watched from mid-game count from the tick they "
                       "were first seen", style="dim"))


def render_audit(doc: dict[str, Any], console: Console) -> None:
    """``rugsd audit``'s human report from its JSON document."""
    inputs = ", ".join(
        f"{s['path']} ({s['rows']} journal rows)" if s["kind"] == "journal" else
        f"{s['path']} ({s['files']} files, {s['lines']} lines: {s['events']} events, "
        f"{s['malformed']} malformed, {s['skipped']} skipped)" for s in doc["inputs"])
    n = doc["games"]
    console.print(Text(f"rugsd audit — {n} game{'s' if n != 1 else ''} from {inputs}",
                       style="bold"))
    counts = Table(box=None, show_header=False, padding=(0, 1))
    counts.add_column()
    counts.add_column(justify="right")
    for name, n in doc["counts"].items():
        counts.add_row(Text(name, style=RESULT_STYLES[name] if n else "dim"), str(n))
    console.print(counts)
    if 0 < doc["games"] <= MAX_GAME_ROWS:
        games = Table(box=None, padding=(0, 1))
        for col in ("game", "result", "version", "rug", "watched from", "ticks"):
            games.add_column(col, no_wrap=True)
        for a in doc["audits"]:
            seen = "history only" if a["entry_tick"] is None else f"tick {a['entry_tick']}"
            games.add_row(a["game_id"], Text(a["result"], style=RESULT_STYLES[a["result"]]),
                          a["version"] or "?", str(a["rug_tick_seed"] or "?"), seen,
                          str(a["ticks_observed"]))
        console.print(games)
    for m in doc["mismatches"]:
        console.print(Text(f"MISMATCH {m['game_id']}: {m['result']}", style="bold red"))
        first = m.get("first_mismatch")
        lines = [f"  {m['detail']}", f"  committed    {m['commitment']}",
                 f"  sha256(seed) {m['sha256_server_seed']}",
                 f"  rug tick     seed {m['rug_tick_seed']}, venue {m['rug_tick_observed']}"]
        if first:
            lines.append(f"  first differing tick {first['tick']} ({first['source']}): seed "
                         f"{first['expected']!r}, venue {first['observed']!r}; "
                         f"{m['mismatching_claims']} claim(s) disagree")
        console.print("\n".join(lines), soft_wrap=True)  # evidence: never cut or wrapped
    if doc["unverifiable_reasons"]:
        console.print(Text("Unverifiable, and why:", style="bold"))
        for reason, n in doc["unverifiable_reasons"].items():
            console.print(f"  {n:5d}  {reason}")
    journal = doc.get("journal")
    if journal:
        bad = journal["disagreements"]
        console.print(f"journal: {journal['rows']} audits recomputed, {len(bad)} disagree with "
                      f"the journaled verdict; {journal['games_not_audited']} games in the "
                      "journal have no audit row (seen only in gameHistory, or journaled "
                      "before audits existed)")
        for d in bad:
            console.print(Text(f"  {d['game_id']}: journaled {d['journaled']}, recomputed "
                               f"{d['recomputed']} ({d['detail']})", style="bold red"))
    if "fairness" in doc:
        render_fairness(doc["fairness"], console)
