"""``rugsd audit``'s engine: the same audit as the daemon's, over files and journals.

- **Files** (a file or a folder of ``*.jsonl`` / ``*.jsonl.gz``): our recordings, the real
  recordings (``{"type": "tick", ...}`` lines) and raw captures (``{"timestamp",
  "event_type", "data"}``), read by ``rugsd replay``'s own ``ReplaySource``. The events go
  through the daemon's own ``GameObserver`` and ``audit_game``; games known only from a
  revealed ``gameHistory`` record are audited too (their published prices are then the
  evidence), and a game whose seed never shows up is ``unverifiable`` with the reason.
- **A data dir's journal**: every ``audits`` row is recomputed from the observations the
  daemon journaled (``Observed.from_json``) and compared with the verdict it journaled
  then; a disagreement is reported. Games in the journal with no audit row are counted.

Bad lines are counted (malformed / skipped), never fatal; a missing path or a journal
that cannot be read raises ``AuditInputError`` (one line for the CLI).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rugsd.daemon.audit.check import audit_game, audit_observed
from rugsd.daemon.audit.fairness import GameFacts, facts_of
from rugsd.daemon.audit.model import AuditRequest, AuditResult, GameAudit, Observed
from rugsd.daemon.audit.observe import GameObserver
from rugsd.daemon.events import GameUpdate
from rugsd.daemon.feed.replay import ReplayError, ReplaySource

JOURNAL_FILE = "journal.sqlite"


class AuditInputError(Exception):
    """An input cannot be audited at all (missing path, no recordings, unreadable journal)."""


@dataclass(slots=True)
class InputStats:
    """What was read from one PATH (or one data dir)."""

    path: str
    kind: str  # files | journal
    files: int = 0
    lines: int = 0
    events: int = 0
    malformed: int = 0
    skipped: int = 0
    meta: int = 0
    rows: int = 0  # journal rows

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(slots=True)
class JournalCheck:
    """A journaled audit recomputed: did the verdict hold?"""

    run_id: str
    journaled: str
    audit: GameAudit

    @property
    def agrees(self) -> bool:
        """True when the recomputed result is the journaled one."""
        return self.audit.result.value == self.journaled


@dataclass(slots=True)
class OfflineAudit:
    """Everything ``rugsd audit`` found."""

    audits: list[GameAudit] = field(default_factory=list)
    inputs: list[InputStats] = field(default_factory=list)
    journal: list[JournalCheck] = field(default_factory=list)
    not_audited: int = 0  # journal games without an audit row

    @property
    def mismatches(self) -> list[GameAudit]:
        """The games that broke their commitment."""
        return [a for a in self.audits if a.is_mismatch]

    def facts(self) -> list[GameFacts]:
        """The games the fairness meter can use."""
        out = []
        for a in self.audits:
            seed_rug = a.rug_tick if a.result is AuditResult.VERIFIED else None
            facts = facts_of(a.observed, seed_rug)
            if facts is not None:
                out.append(facts)
        return out


def audit_files(paths: list[Path]) -> OfflineAudit:
    """Audit every game in the recordings / raw captures under ``paths``."""
    result = OfflineAudit()
    observer = GameObserver(audit_unobserved=True)
    requests: list[AuditRequest] = []
    last_ts = 0
    for path in paths:
        if not Path(path).exists():
            raise AuditInputError(f"no such file or folder: {path}")
        try:
            source = ReplaySource(path)  # the files `rugsd replay` reads, read the same way
            for event in source.iter_events():
                if isinstance(event, GameUpdate):
                    last_ts = max(last_ts, event.ts_ms)
                    requests.extend(observer.observe(event) or ())
        except ReplayError as err:
            raise AuditInputError(str(err)) from None
        s = source.stats
        result.inputs.append(InputStats(str(path), "files", files=s.files, lines=s.lines,
                                        events=s.events, malformed=s.malformed,
                                        skipped=s.skipped, meta=s.meta))
    requests.extend(observer.flush(last_ts))
    result.audits.extend(audit_game(r) for r in requests)
    return result


_AUDIT_COLUMNS = ("run_id", "game_id", "result", "version", "commitment", "server_seed",
                  "detail", "observations")


def audit_journal(data_dir: Path, into: OfflineAudit | None = None) -> OfflineAudit:
    """Recompute every audit journaled in ``data_dir`` (see the module docstring)."""
    result = into if into is not None else OfflineAudit()
    journal = data_dir / JOURNAL_FILE
    if not journal.is_file():
        raise AuditInputError(f"no journal at {journal}")
    stats = InputStats(str(data_dir), "journal")
    result.inputs.append(stats)
    try:
        conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5.0)
        try:
            rows = _rows(conn, f"SELECT {', '.join(_AUDIT_COLUMNS)} FROM audits ORDER BY id")
            games = _rows(conn, "SELECT DISTINCT game_id FROM games")
        finally:
            conn.close()
    except sqlite3.Error as err:
        raise AuditInputError(f"cannot read journal {journal}: {err}") from None
    audited = set()
    for row in rows:
        stats.rows += 1
        check = _recheck(dict(zip(_AUDIT_COLUMNS, row, strict=True)))
        audited.add(check.audit.game_id)
        result.journal.append(check)
        result.audits.append(check.audit)
    result.not_audited += len({g for (g,) in games} - audited)
    return result


def _rows(conn: sqlite3.Connection, sql: str) -> list[tuple]:
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError as err:
        if "no such table" in str(err):
            return []  # a journal from before the audit (or without games yet)
        raise


def _recheck(row: dict[str, Any]) -> JournalCheck:
    gid = str(row["game_id"])
    try:
        observed = Observed.from_json(gid, row["observations"] or "")
    except (ValueError, TypeError) as err:
        bad = GameAudit(gid, AuditResult.UNVERIFIABLE,
                        f"journaled observations unreadable: {err}", Observed(gid))
        return JournalCheck(row["run_id"], row["result"], bad)
    seed = row["server_seed"]
    if seed:
        audit = audit_observed(observed, seed, row["commitment"], row["version"])
    else:
        audit = GameAudit(gid, AuditResult.UNVERIFIABLE, row["detail"] or "seed never revealed",
                          observed, version=row["version"], commitment=row["commitment"])
    return JournalCheck(row["run_id"], row["result"], audit)


def summarize(found: OfflineAudit, fairness_section: dict[str, Any] | None) -> dict[str, Any]:
    """The JSON document of ``rugsd audit --json``."""
    counts = Counter(a.result.value for a in found.audits)
    reasons = Counter(a.detail for a in found.audits if a.result is AuditResult.UNVERIFIABLE)
    out: dict[str, Any] = {
        "games": len(found.audits),
        "counts": {r.value: counts.get(r.value, 0) for r in AuditResult},
        "ok": not found.mismatches,
        "mismatches": [a.evidence() for a in found.mismatches],
        "unverifiable_reasons": dict(reasons.most_common()),
        "inputs": [s.as_dict() for s in found.inputs],
        "audits": [a.evidence() for a in found.audits],
    }
    if any(s.kind == "journal" for s in found.inputs):
        out["journal"] = {
            "rows": len(found.journal),
            "disagreements": [
                {"run_id": c.run_id, "game_id": c.audit.game_id, "journaled": c.journaled,
                 "recomputed": c.audit.result.value, "detail": c.audit.detail}
                for c in found.journal if not c.agrees
            ],
            "games_not_audited": found.not_audited,
        }
    if fairness_section is not None:
        out["fairness"] = fairness_section
    return out
