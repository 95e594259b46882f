"""The decision core's side of a finished audit: count it, journal it, act on a mismatch.

``on_audit_verdict`` runs inside ``DecisionCore.step`` for an ``AuditVerdict`` input, so
the risk change it causes is part of the deterministic, journaled step like any other:

- every verdict becomes an ``AuditRecord`` (the evidence included);
- a ``hash_mismatch`` / ``path_mismatch`` acts per ``CoreSettings.on_mismatch``:
  ``halt`` (default) → HALTED with reason ``venue_integrity`` until an operator resumes;
  ``kill`` → KILLED (latched, like any kill); ``warn`` → journaled and counted only.

``AuditBook`` keeps the running counts and the latest mismatch for the snapshot, the TUI
and ``rugsd status``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from rugsd.daemon.audit.model import AuditResult, AuditVerdict, GameAudit
from rugsd.daemon.journal.records import AuditRecord
from rugsd.risk.reasons import ReasonCode

if TYPE_CHECKING:
    from rugsd.daemon.core.state import CoreState, StepOutput


class OnMismatch(StrEnum):
    """What a venue-integrity mismatch does to trading (``[audit] on_mismatch``)."""

    HALT = "halt"
    KILL = "kill"
    WARN = "warn"


@dataclass(slots=True)
class AuditBook:
    """Audit counts since the core started, and the latest mismatch."""

    counts: Counter[str] = field(default_factory=Counter)
    last: GameAudit | None = None
    last_mismatch: GameAudit | None = None

    def add(self, audit: GameAudit) -> None:
        """Count one verdict."""
        self.counts[audit.result.value] += 1
        self.last = audit
        if audit.is_mismatch:
            self.last_mismatch = audit

    def summary(self, pending: int = 0) -> dict[str, Any]:
        """The snapshot's ``audit`` section."""
        c = self.counts
        audited = sum(c.values())
        mismatch = self.last_mismatch
        return {
            "audited": audited,
            "verified": c[AuditResult.VERIFIED.value],
            "hash_mismatch": c[AuditResult.HASH_MISMATCH.value],
            "path_mismatch": c[AuditResult.PATH_MISMATCH.value],
            "unverifiable": c[AuditResult.UNVERIFIABLE.value],
            "pending": pending,
            "last": None if self.last is None else _brief(self.last),
            "last_mismatch": None if mismatch is None else _brief(mismatch),
        }


def _brief(a: GameAudit) -> dict[str, Any]:
    first = a.first
    return {
        "game_id": a.game_id,
        "result": a.result.value,
        "detail": a.detail,
        "tick": first.tick if first else None,
        "expected": first.expected if first else None,
        "observed": first.observed if first else None,
    }


def audit_record(run_id: str, ts_ms: int, a: GameAudit) -> AuditRecord:
    """The journal record of one audit."""
    first = a.first
    return AuditRecord(
        run_id=run_id,
        ts_ms=ts_ms,
        game_id=a.game_id,
        result=a.result.value,
        version=a.version,
        commitment=a.commitment,
        server_seed=a.server_seed,
        rug_tick=a.rug_tick,
        entry_tick=a.observed.entry_tick,
        ticks_observed=a.observed.informative,
        first_tick=first.tick if first else None,
        expected=first.expected if first else None,
        observed=first.observed if first else None,
        detail=a.detail,
        observations=a.observed.to_json(),
    )


def on_audit_verdict(core: CoreState, verdict: AuditVerdict, out: StepOutput) -> None:
    """Apply one finished audit to the core (see the module docstring)."""
    audit = verdict.audit
    ts = verdict.ts_ms
    core.audit_book.add(audit)
    core.stats[f"audit_{audit.result.value}"] += 1
    out.records.append(audit_record(core.cfg.run_id, ts, audit))
    if not audit.is_mismatch:
        return
    detail = f"game {audit.game_id} {audit.result.value}: {audit.detail}"[:500]
    mode = OnMismatch(core.cfg.on_mismatch)
    if mode is OnMismatch.HALT:
        core.risk_to(core.risk.venue_integrity(ts, detail), out)
    elif mode is OnMismatch.KILL:
        core.risk_to(core.risk.kill(ts, ReasonCode.VENUE_INTEGRITY, detail), out,
                     kill_source="auto", kill_reason=f"venue_integrity: {detail}")
