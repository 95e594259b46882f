"""Venue integrity in the TUI: the ``fair 132/132`` header badge and the alert line.

Both read the RAW snapshot (``snapshot["audit"]``, ``snapshot["risk"]["flags"]``), so a
daemon without the audit section, or a malformed one, shows nothing instead of breaking
the screen. ``fair V/N``: games whose provably-fair commitment was verified / games
audited since the daemon started — green when all verified, yellow when some could not
be verified, white on red with the count when a game broke its commitment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _count(section: Mapping[str, Any], key: str) -> int:
    value = section.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def fair_badge(raw: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """``("fair 132/132", style)`` from a raw snapshot; None without an audit section."""
    audit = raw.get("audit") if isinstance(raw, Mapping) else None
    if not isinstance(audit, Mapping):
        return None
    verified, audited = _count(audit, "verified"), _count(audit, "audited")
    bad = _count(audit, "hash_mismatch") + _count(audit, "path_mismatch")
    if bad:
        return f"fair {verified}/{audited} ✗{bad}", "bold white on red"
    if not audited:
        return "fair 0/0", "grey62"
    return f"fair {verified}/{audited}", "green" if verified == audited else "yellow"


def venue_alert(raw: Mapping[str, Any] | None) -> str | None:
    """The alert line for the latest game that broke its commitment, or None."""
    audit = raw.get("audit") if isinstance(raw, Mapping) else None
    last = audit.get("last_mismatch") if isinstance(audit, Mapping) else None
    if not isinstance(last, Mapping):
        return None
    risk = raw.get("risk")
    flags = risk.get("flags") if isinstance(risk, Mapping) else None
    halted = isinstance(flags, Mapping) and flags.get("venue_integrity") is True
    where = ""
    tick, expected, observed = last.get("tick"), last.get("expected"), last.get("observed")
    if isinstance(tick, int):
        # repr: the shortest exact form, so a difference in the last digit stays visible
        seed = repr(expected) if isinstance(expected, float | int) else "game over"
        venue = repr(observed) if isinstance(observed, float | int) else "-"
        where = f" at tick {tick} (seed {seed}, venue {venue})"
    what = str(last.get("result") or "mismatch").replace("_", " ")
    then = "HALTED until `rugsd resume`" if halted else "trading not halted"
    return f"⚠ VENUE INTEGRITY — game {last.get('game_id')}: {what}{where}. {then}. ⚠"
