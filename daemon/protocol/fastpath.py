"""Hand-written fast path for the common ``gameStateUpdate`` (no pydantic on the hot path).

``fast_game_update`` accepts exactly what ``models.game_update_from_wire`` accepts and
returns the same ``GameUpdate`` — or returns None whenever it is not sure (unusual types,
any field out of range, a ``prices``/``gameHistory`` blob present, anything to report),
and the caller then takes the validated path, which also explains rejections. The
equivalence is property-tested on fuzzed payloads (tests/daemon/protocol/test_protocol_fuzz.py)
and checked on every real game state (test_protocol_real_samples.py).

It touches only the ~20 keys the daemon uses, so the leaderboard, rugRoyale and the
godCandle/highestToday arrays cost nothing.
"""

from __future__ import annotations

import math
import re
from typing import Any

from rugsd.daemon.events import GameUpdate, SessionStats
from rugsd.daemon.protocol.models import MAX_COOLDOWN_MS, MAX_COUNT, MAX_WIRE_TICK

_game_id_match = re.compile(r"[0-9]{8}-[0-9a-f]{16}").fullmatch
_INF = math.inf
_EXACT_INT = 2**53  # larger ints lose precision as floats: leave them to pydantic
_FAIL = object()
_valid_gid: list[str] = [""]  # the last game id that matched (a pure check's memo)
# the last room statistics: the room sends the same ones for many updates, and one shared
# (frozen) object lets the feature builder see "unchanged" by identity
_last_stats: list[tuple[tuple, SessionStats | None]] = [((), None)]
# str(tick) -> tick for every valid tick: validates and converts a partialPrices key at once
_TICK_KEYS = {str(t): t for t in range(MAX_WIRE_TICK + 1)}


def _price(v: Any) -> Any:
    """A finite float >= 0 from a JSON number, ``None`` for None, else ``_FAIL``."""
    t = type(v)
    if t is float:
        return v if 0.0 <= v < _INF else _FAIL  # NaN fails the comparison
    if t is int:
        return float(v) if 0 <= v <= _EXACT_INT else _FAIL
    return None if v is None else _FAIL


def _count(v: Any, hi: int) -> Any:
    """An int in ``0..hi`` (bool excluded), ``None`` for None, else ``_FAIL``."""
    if type(v) is int:
        return v if 0 <= v <= hi else _FAIL
    return None if v is None else _FAIL


def _opt_str(v: Any) -> bool:
    return v is None or type(v) is str


def fast_game_update(p: dict[str, Any], ts_ms: int) -> GameUpdate | None:
    """``GameUpdate`` from a plain, well-formed payload; None means "use the slow path"."""
    get = p.get
    gid = get("gameId")
    if type(gid) is not str or len(gid) != 25:
        return None
    if gid != _valid_gid[0]:  # one game id for hundreds of updates: match it once
        if _game_id_match(gid) is None:
            return None
        _valid_gid[0] = gid
    cooldown = get("cooldownTimer")
    if type(cooldown) is not int or not 0 <= cooldown <= MAX_COOLDOWN_MS:
        return None
    allow = get("allowPreRoundBuys", False)
    active = get("active", False)
    rugged = get("rugged", False)
    if type(allow) is not bool or type(active) is not bool or type(rugged) is not bool:
        return None
    price = _price(get("price"))
    tick = _count(get("tickCount"), MAX_WIRE_TICK)
    trades = _count(get("tradeCount"), MAX_COUNT)
    players = _count(get("connectedPlayers"), MAX_COUNT)
    if price is _FAIL or tick is _FAIL or trades is _FAIL or players is _FAIL:
        return None
    if (active or rugged) and (price is None or tick is None):
        return None
    if get("prices") is not None or get("gameHistory") is not None:
        return None  # rare, big blobs: validated (and reported) by the slow path

    stats = None
    avg = get("averageMultiplier")
    c2, c10, c50, c100 = get("count2x"), get("count10x"), get("count50x"), get("count100x")
    if avg is not None or c2 is not None or c10 is not None or c50 is not None or c100 is not None:
        avg = _price(avg)
        c2, c10 = _count(c2, MAX_COUNT), _count(c10, MAX_COUNT)
        c50, c100 = _count(c50, MAX_COUNT), _count(c100, MAX_COUNT)
        if avg is _FAIL or c2 is _FAIL or c10 is _FAIL or c50 is _FAIL or c100 is _FAIL:
            return None
        key = (avg, c2, c10, c50, c100)
        last_key, stats = _last_stats[0]
        if key != last_key:  # avg is a float (or None) and the counts ints by now
            stats = SessionStats(avg, c2, c10, c50, c100)
            _last_stats[0] = (key, stats)

    version = get("gameVersion")
    if not _opt_str(version):
        return None
    seed_hash = None
    pf = get("provablyFair")
    if pf is not None:
        if type(pf) is not dict:
            return None
        seed_hash = pf.get("serverSeedHash")
        pf_version = pf.get("version")
        if not (_opt_str(seed_hash) and _opt_str(pf_version) and _opt_str(pf.get("serverSeed"))):
            return None
        if pf_version is not None:
            version = pf_version

    partial: tuple[tuple[int, float], ...] = ()
    pp = get("partialPrices")
    if pp is not None:
        if type(pp) is not dict:
            return None
        values = pp.get("values")
        if type(values) is not dict:
            return None
        pairs = []
        for k, v in values.items():
            tick_key = _TICK_KEYS.get(k)  # canonical "0".."6000" only, like models.TickKey
            if tick_key is None:
                return None
            if type(v) is not float or not 0.0 <= v < _INF:
                v = _price(v)
                if v is None or v is _FAIL:
                    return None
            pairs.append((tick_key, v))
        pairs.sort()
        partial = tuple(pairs)

    return GameUpdate(
        ts_ms=ts_ms,
        game_id=gid,
        active=active,
        rugged=rugged,
        cooldown_ms=cooldown,
        allow_prebuys=allow,
        price=price,
        tick=tick,
        trade_count=trades,
        partial_prices=partial,
        backfill=None,
        stats=stats,
        history=(),
        server_seed_hash=seed_hash,
        version=version,
        connected_players=players,
    )
