"""``audit_game``: one game against its provably-fair commitment (pure, no I/O).

In order (the first that applies decides):

1. no revealed seed → ``unverifiable`` (say why);
2. ``sha256(seed)`` differs from the hash committed during the game, the commitment
   changed mid-game, or the revealed record names another hash → ``hash_mismatch``;
3. a version the engine does not know → ``unverifiable``;
4. any claim contradicts the seed → ``path_mismatch`` with the first differing tick and
   both values. PRNG prices must be the *identical* doubles; the rug must come at the
   seed's rug tick, and its price — not from the PRNG — within the rug-price law observed
   on the real feed: ``0 <= rug <= 2 % of min(previous price, 1)`` (``RUG_PRICE_MAX_FRACTION``;
   every recorded rug of 596 real games lies inside it, up to float rounding), with a
   relative slack of ``RUG_PRICE_SLACK``;
5. no hash anywhere (neither seen during the game nor in the revealed record), or no
   informative claim (nothing past tick 0, no rug) → ``unverifiable``;
6. else ``verified``.

The commitment is the first ``serverSeedHash`` seen on the game's own updates; a game
known only from ``gameHistory`` has none but the one its record names (reported as
``commitment_seen_live: false``).
"""

from __future__ import annotations

import time
from dataclasses import replace

from rugsd.daemon.audit.model import (
    AuditRequest,
    AuditResult,
    Claim,
    GameAudit,
    Mismatch,
    Observed,
    Source,
)
from rugsd.daemon.audit.observe import collect
from rugsd.daemon.game.engine import GameOutcome, generate_game, seed_hash
from rugsd.daemon.game.rules import RUG_PRICE_MAX_FRACTION, VERSIONS

RUG_PRICE_SLACK = 1e-9
"""Relative float slack on the rug-price bound (real rugs reach 0.020000000000000018 x)."""


def audit_game(request: AuditRequest) -> GameAudit:
    """Audit one game from its feed updates and revealed record."""
    started = time.perf_counter()
    observed = collect(request.game_id, request.updates, request.revealed)
    rev = request.revealed
    if rev is None or not rev.server_seed:
        audit = GameAudit(request.game_id, AuditResult.UNVERIFIABLE,
                          request.why or "seed never revealed", observed)
    else:
        audit = audit_observed(observed, rev.server_seed, rev.server_seed_hash, rev.version)
    return _timed(audit, started)


def audit_observed(
    observed: Observed,
    server_seed: str,
    revealed_hash: str | None = None,
    revealed_version: str | None = None,
) -> GameAudit:
    """Audit ``observed`` against the revealed ``server_seed`` (steps 2–6 above)."""
    gid = observed.game_id
    digest = seed_hash(server_seed)
    commitment = observed.hashes[0] if observed.hashes else _norm(revealed_hash)
    version = observed.version or revealed_version
    base = {"observed": observed, "version": version, "commitment": commitment,
            "server_seed": server_seed, "seed_hash": digest}
    claimed_rug = [c.tick for c in observed.rug_claims]
    observed_rug = min(claimed_rug) if claimed_rug else None
    problem = _hash_problem(observed, digest, commitment, revealed_hash)
    if problem:
        return GameAudit(gid, AuditResult.HASH_MISMATCH, problem,
                         observed_rug_tick=observed_rug, **base)
    if version not in VERSIONS:
        return GameAudit(gid, AuditResult.UNVERIFIABLE, f"unknown game version {version!r}",
                         observed_rug_tick=observed_rug, **base)
    outcome = generate_game(server_seed, gid, version)
    found = [m for m in (_contradiction(c, outcome) for c in observed.claims) if m is not None]
    base.update(rug_tick=outcome.rug_tick, observed_rug_tick=observed_rug)
    if found:
        first = min(found, key=lambda m: m.tick)
        detail = f"tick {first.tick} ({first.source}): {first.what}"
        if len(found) > 1:
            detail += f" (+{len(found) - 1} more)"
        return GameAudit(gid, AuditResult.PATH_MISMATCH, detail, first=first,
                         mismatches=len(found), **base)
    if commitment is None:
        return GameAudit(gid, AuditResult.UNVERIFIABLE,
                         "no seed hash was committed or published for this game", **base)
    n = observed.informative
    if n == 0:
        return GameAudit(gid, AuditResult.UNVERIFIABLE,
                         "too few ticks observed (no price past tick 0 and no rug)", **base)
    shown = "of its history record" if observed.entry_tick is None else "observed"
    return GameAudit(gid, AuditResult.VERIFIED,
                     f"{n} ticks {shown} match the seed (rug at tick {outcome.rug_tick})",
                     **base)


def _norm(h: str | None) -> str | None:
    return h.strip().lower() if isinstance(h, str) and h.strip() else None


def _hash_problem(
    observed: Observed, digest: str, commitment: str | None, revealed_hash: str | None
) -> str:
    if commitment is None:
        return ""  # nothing committed to compare with: the path check still runs
    if len(observed.hashes) > 1:
        return f"the commitment changed during the game: {', '.join(observed.hashes)}"
    if _norm(commitment) != digest:
        return f"sha256(revealed seed) = {digest} but the committed hash was {commitment}"
    rev = _norm(revealed_hash)
    if rev is not None and rev != digest:
        return f"the revealed record names hash {revealed_hash}, not sha256(seed) = {digest}"
    return ""


def _sources(c: Claim) -> str:
    return "+".join(Source(s).label for s in c.sources)


def _contradiction(c: Claim, game: GameOutcome) -> Mismatch | None:
    """How claim ``c`` contradicts the seed's ``game`` (None when it agrees)."""
    rug_at = game.rug_tick
    prices = game.prices
    if c.rug:
        if c.tick < rug_at:
            return Mismatch(c.tick, _sources(c), prices[c.tick], c.value,
                            f"rug at tick {c.tick}, the seed rugs at tick {rug_at}")
        if c.tick > rug_at:
            return Mismatch(rug_at, _sources(c), None, c.value,
                            f"rug at tick {c.tick}, the seed rugs at tick {rug_at}")
        bound = RUG_PRICE_MAX_FRACTION * min(prices[-1], 1.0)
        if not 0.0 <= c.value <= bound * (1 + RUG_PRICE_SLACK):
            return Mismatch(c.tick, _sources(c), bound, c.value,
                            f"rug price {c.value!r} outside [0, {bound!r}] "
                            f"(2 % of min(previous price, 1))")
        return None
    if c.tick >= rug_at:
        return Mismatch(c.tick, _sources(c), None, c.value,
                        f"price {c.value!r} at tick {c.tick}, but the seed rugs at tick "
                        f"{rug_at}")
    if c.value != prices[c.tick]:
        return Mismatch(c.tick, _sources(c), prices[c.tick], c.value,
                        f"price {c.value!r}, the seed gives {prices[c.tick]!r}")
    return None


def _timed(audit: GameAudit, started: float) -> GameAudit:
    return replace(audit, seconds=time.perf_counter() - started)
