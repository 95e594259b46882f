"""The games a data dir's journal covers, as the fairness meter needs them.

Read-only over an open sqlite connection (``rugsd report`` reads the journal while the
daemon writes it). Each game counts once, whatever the number of runs that saw it:

- an ``audits`` row gives the game as the venue showed it (``Observed``: rug tick, the
  tick it was first watched from, every price seen);
- a ``games`` row with a revealed seed and no audit row is a game known only from a
  ``gameHistory`` record (e.g. the ten shown at connect): its rug tick, watched whole.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rugsd.daemon.audit.fairness import GameFacts, facts_of
from rugsd.daemon.audit.model import AuditResult, Observed


def _rows(conn: sqlite3.Connection, sql: str, params: tuple) -> list[tuple]:
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as err:
        if "no such table" in str(err):
            return []  # a journal written before audits existed
        raise


def journal_facts(conn: sqlite3.Connection, since_ms: int) -> list[GameFacts]:
    """Every game of the journal at or after ``since_ms`` the meter can use."""
    out: dict[str, GameFacts | None] = {}
    audits = _rows(conn, "SELECT game_id, result, rug_tick, observations FROM audits "
                         "WHERE ts_ms >= ? ORDER BY id", (since_ms,))  # fmt: skip
    for game_id, result, rug_tick, text in audits:
        if game_id in out:
            continue
        try:
            observed = Observed.from_json(game_id, text or "")
        except (ValueError, TypeError):
            out[game_id] = None  # unreadable evidence: leave the game out
            continue
        seed_rug = rug_tick if result == AuditResult.VERIFIED.value else None
        out[game_id] = facts_of(observed, seed_rug)
    games = _rows(conn, "SELECT game_id, MIN(rug_tick) FROM games WHERE ended_ts_ms >= ? "
                        "AND server_seed IS NOT NULL GROUP BY game_id", (since_ms,))  # fmt: skip
    for game_id, rug_tick in games:
        if game_id not in out and rug_tick is not None and rug_tick >= 1:
            out[game_id] = GameFacts(game_id, int(rug_tick))
    return [f for f in out.values() if f is not None]


def facts_in(data_dir: Path, since_ms: int | None = None) -> list[GameFacts]:
    """``journal_facts`` of ``DATA_DIR/journal.sqlite`` (empty without a journal)."""
    journal = Path(data_dir) / "journal.sqlite"
    if not journal.is_file():
        return []
    conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        return journal_facts(conn, since_ms if since_ms is not None else -(2**62))
    finally:
        conn.close()
