"""The audit's values: what was observed of a game, what was asked, what was found.

All frozen: an ``AuditRequest`` crosses from the decision core to a worker thread and a
``GameAudit`` comes back as the core input ``AuditVerdict``; neither is ever mutated.
``Observed`` round-trips through JSON (``to_json`` / ``from_json``) so the journal keeps
the evidence of every audit and ``rugsd audit --data-dir`` can recompute it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rugsd.daemon.events import FinishedGame, GameUpdate


class AuditResult(StrEnum):
    """The verdict on one game."""

    VERIFIED = "verified"  # hash matches and every observed price is the seed's
    HASH_MISMATCH = "hash_mismatch"  # sha256(revealed seed) != the committed hash
    PATH_MISMATCH = "path_mismatch"  # a price or the rug tick differs from the seed's
    UNVERIFIABLE = "unverifiable"  # seed never revealed, unknown version, nothing observed


MISMATCHES = frozenset({AuditResult.HASH_MISMATCH, AuditResult.PATH_MISMATCH})


class Source(StrEnum):
    """Where a claimed price came from (one letter each, for the compact JSON)."""

    LIVE = "L"  # the update's own price at its tickCount
    PARTIAL = "P"  # partialPrices.values
    BACKFILL = "B"  # the full ``prices`` array of a mid-game connect
    HISTORY = "H"  # the revealed gameHistory record's ``prices``

    @property
    def label(self) -> str:
        """The readable name (``live``, ``partial``, ``backfill``, ``history``)."""
        return _LABELS[self]


_LABELS = {Source.LIVE: "live", Source.PARTIAL: "partial", Source.BACKFILL: "backfill",
           Source.HISTORY: "history"}


@dataclass(frozen=True, slots=True)
class Claim:
    """The venue said the price at ``tick`` was ``value`` (``rug``: the rug event's price).

    ``sources`` lists every ``Source`` letter that said exactly this (``"LPH"``): equal
    claims are merged, a different value for the same tick is a separate claim.
    """

    tick: int
    value: float
    sources: str
    rug: bool = False


@dataclass(frozen=True, slots=True)
class Observed:
    """Everything the venue showed about one game.

    ``hashes``: every distinct ``serverSeedHash`` seen while the game was current, in order
    (more than one means the commitment changed). ``entry_tick``: the tick at which the
    game was first seen running — 0 when it was watched from its cooldown, the joined tick
    after a mid-game connect, None when it was never seen running before its rug (e.g. it
    is known only from ``gameHistory``). ``counts``: live/partial/backfill/history claims
    read, duplicates, post-rug repeats.
    """

    game_id: str
    hashes: tuple[str, ...] = ()
    version: str | None = None
    claims: tuple[Claim, ...] = ()
    entry_tick: int | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def informative(self) -> int:
        """Ticks that say something about the seed: price claims past tick 0, and rugs."""
        return len({c.tick for c in self.claims if c.rug or c.tick > 0})

    @property
    def rug_claims(self) -> tuple[Claim, ...]:
        """The claims about the rug (its tick and price)."""
        return tuple(c for c in self.claims if c.rug)

    def to_json(self) -> str:
        """Compact JSON (floats round-trip exactly)."""
        return json.dumps(
            {
                "hashes": list(self.hashes),
                "version": self.version,
                "entry_tick": self.entry_tick,
                "counts": self.counts,
                "claims": [[c.tick, c.value, c.sources + ("R" if c.rug else "")]
                           for c in self.claims],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, game_id: str, text: str) -> Observed:
        """Inverse of ``to_json``; raises ``ValueError`` / ``TypeError`` on bad input."""
        data: Any = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("claims"), list):
            raise TypeError("observations: not an object with claims")
        claims = []
        for item in data["claims"]:
            tick, value, tags = item
            if type(tick) is not int or type(value) not in (int, float) or type(tags) is not str:
                raise ValueError(f"observations: bad claim {item!r}")
            claims.append(Claim(tick, float(value), tags.replace("R", ""), "R" in tags))
        return cls(
            game_id=game_id,
            hashes=tuple(str(h) for h in data.get("hashes") or ()),
            version=data.get("version"),
            claims=tuple(claims),
            entry_tick=data.get("entry_tick"),
            counts={str(k): int(v) for k, v in (data.get("counts") or {}).items()},
        )


@dataclass(frozen=True, slots=True)
class AuditRequest:
    """Audit ``game_id``: its feed updates, and the revealed record (None: never revealed).

    ``ts_ms`` is the time of the update that triggered the request (the reveal, or the
    moment the game was given up on). ``why`` explains a missing reveal.
    """

    game_id: str
    ts_ms: int
    updates: tuple[GameUpdate, ...]
    revealed: FinishedGame | None
    why: str = ""


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One contradiction between the venue and the seed."""

    tick: int
    source: str  # live | partial | backfill | history (several joined by "+")
    expected: float | None  # the seed's price at ``tick`` (None: the game is over there)
    observed: float
    what: str  # one line for humans


@dataclass(frozen=True, slots=True)
class GameAudit:
    """The audit of one game: the verdict and its evidence."""

    game_id: str
    result: AuditResult
    detail: str
    observed: Observed
    version: str | None = None
    commitment: str | None = None  # the hash committed before/during the game
    server_seed: str | None = None
    seed_hash: str | None = None  # sha256(server_seed)
    rug_tick: int | None = None  # the seed's rug tick
    observed_rug_tick: int | None = None
    first: Mismatch | None = None
    mismatches: int = 0
    seconds: float = 0.0  # time the check took (worker side)

    @property
    def is_mismatch(self) -> bool:
        """True for ``hash_mismatch`` and ``path_mismatch``."""
        return self.result in MISMATCHES

    def evidence(self) -> dict[str, Any]:
        """A JSON-ready description (``rugsd audit --json``, logs)."""
        o = self.observed
        out: dict[str, Any] = {
            "game_id": self.game_id,
            "result": self.result.value,
            "detail": self.detail,
            "version": self.version,
            "commitment": self.commitment,
            "commitment_seen_live": bool(o.hashes),
            "server_seed": self.server_seed,
            "sha256_server_seed": self.seed_hash,
            "rug_tick_seed": self.rug_tick,
            "rug_tick_observed": self.observed_rug_tick,
            "entry_tick": o.entry_tick,
            "ticks_observed": o.informative,
            "counts": o.counts,
            "mismatching_claims": self.mismatches,
        }
        if self.first is not None:
            f = self.first
            out["first_mismatch"] = {"tick": f.tick, "source": f.source,
                                     "expected": f.expected, "observed": f.observed,
                                     "what": f.what}
        return out


@dataclass(frozen=True, slots=True)
class AuditVerdict:
    """Decision-core input: an audit finished (``ts_ms`` stamped by the shell)."""

    ts_ms: int
    audit: GameAudit
