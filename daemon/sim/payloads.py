"""Wire payloads of the simulator, with the real feed's field names, shapes and key order.

Checked against ``shared/data/real/key_samples.json`` (February 2026) and
``websocket_raw_samples.jsonl`` (December 2025). ``gameStateUpdate`` comes in the shapes
the real feed uses:

- ``cooldown_minimal`` — most cooldown/presale events (sample ``01_cooldown_early_minimal``);
- ``full_state`` — the first event of a cycle (``cooldownTimer`` 15000, carrying
  ``gameHistory`` whose [0] is the game that just finished, sample ``02``), the post-rug
  final event (sample ``11``, history not yet updated) and the snapshot sent on connect
  (with a ``prices`` backfill when a game is running, like the real mid-game connect);
- ``presale_transition`` — the event at ``cooldownTimer`` 10000 (sample ``03``);
- ``game_start`` — tick 0 (sample ``04``);
- ``active_tick`` — every later tick and the rug event (samples ``05`` and ``10``).

Only ``standard/newTrade`` carries the two-argument form ``({"__trace": true,
"traceparent": …}, payload)`` in the real samples (chat and battle events too, which the
simulator does not emit); ``gameStateUpdate`` is single-argument. ``newSideBet`` does not
occur in the samples, so it is sent single-argument (clients take ``args[-1]`` anyway).

Session statistics (``averageMultiplier``, ``count2x``…, ``rugpool``, ``highestToday``,
``godCandle*``) come from ``rugsd.daemon.sim.stats``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rugsd.daemon.game.rules import START_PRICE
from rugsd.daemon.sim.stats import GOD_CANDLE_BUCKETS, RUGPOOL_THRESHOLD, SessionTotals

Payload = dict[str, Any]

PRACTICE_COIN: Payload = {
    "address": "0xPractice",
    "ticker": "FREE",
    "name": "Practice SOL",
    "max_bet": 10000,
    "max_win": 100000,
}
RUG_ROYALE_INACTIVE: Payload = {
    "status": "INACTIVE",
    "activeEventId": None,
    "currentEvent": None,
    "upcomingEvents": [],
    "events": [],
}
PARTIAL_TICKS = 5


def wire_price(price: float) -> float | int:
    """The start price goes out as the integer ``1`` (as on the real feed), others as is."""
    return 1 if price == START_PRICE else price


@dataclass(frozen=True, slots=True)
class Common:
    """The fields every ``gameStateUpdate`` of one step shares."""

    game_id: str
    server_seed_hash: str
    version: str
    connected: int
    leaderboard: list[Payload]
    totals: SessionTotals


def _provably_fair(c: Common) -> Payload:
    return {"serverSeedHash": c.server_seed_hash, "version": c.version}


def _stats(c: Common) -> Payload:
    t = c.totals
    return {
        "averageMultiplier": t.average(),
        "count2x": t.count2x,
        "count10x": t.count10x,
        "count50x": t.count50x,
        "count100x": t.count100x,
    }


def _rugpool(c: Common) -> Payload:
    return {
        "instarugCount": c.totals.instarugs % RUGPOOL_THRESHOLD,
        "threshold": RUGPOOL_THRESHOLD,
        "rugpoolAmount": 0.0,
    }


def partial_prices(prices: Sequence[float], tick: int) -> Payload:
    """``partialPrices``: the last ``PARTIAL_TICKS`` ticks up to ``tick``, string keys."""
    start = max(0, tick - PARTIAL_TICKS + 1)
    return {
        "startTick": start,
        "endTick": tick,
        "values": {str(t): wire_price(prices[t]) for t in range(start, tick + 1)},
    }


def _highlights(t: SessionTotals) -> Payload:
    out: Payload = {}
    best = t.highest
    out["highestToday"] = best[0] if best else None
    out["highestTodayTimestamp"] = best[1] if best else None
    out["highestTodayGameId"] = best[2] if best else None
    out["highestTodayServerSeed"] = best[3] if best else None
    for bucket in GOD_CANDLE_BUCKETS:
        g = t.god_candles.get(bucket)
        key = f"godCandle{bucket}x"
        out[key] = g[0] if g else None
        out[f"{key}Timestamp"] = g[1] if g else None
        out[f"{key}GameId"] = g[2] if g else None
        out[f"{key}ServerSeed"] = g[3] if g else None
        out[f"{key}MassiveJump"] = g[4] if g else None
    out["availableShitcoins"] = [dict(PRACTICE_COIN)]
    return out


def cooldown_minimal(c: Common, timer: int, presale: bool) -> Payload:
    """A plain cooldown/presale event (sample ``01``)."""
    return {
        "gameId": c.game_id,
        "cooldownTimer": timer,
        "cooldownPaused": False,
        "allowPreRoundBuys": presale,
        "leaderboard": c.leaderboard,
        "connectedPlayers": c.connected,
        "provablyFair": _provably_fair(c),
    }


def full_state(
    c: Common,
    history: list[Payload],
    *,
    active: bool,
    rugged: bool,
    price: float,
    tick: int,
    timer: int,
    presale: bool,
    prices: Sequence[float],
    backfill: bool = False,
) -> Payload:
    """The heavy event with ``gameHistory`` (samples ``02`` and ``11``).

    ``prices`` are the game's prices up to ``tick`` (``[1.0]`` in cooldown); with
    ``backfill`` they are also sent whole as ``prices`` (connect in the middle of a game).
    """
    out: Payload = {"gameHistory": history, **_stats(c), **_highlights(c.totals)}
    out.update(
        {
            "active": active,
            "price": wire_price(price),
            "rugged": rugged,
            "tickCount": tick,
            "cooldownTimer": timer,
            "cooldownPaused": False,
            "pauseMessage": "",
            "allowPreRoundBuys": presale,
            "leaderboard": c.leaderboard,
            "gameId": c.game_id,
            "connectedPlayers": c.connected,
            "gameVersion": c.version,
            "partialPrices": partial_prices(prices, tick),
        }
    )
    if backfill:
        out["prices"] = [wire_price(p) for p in prices[: tick + 1]]
    out["provablyFair"] = _provably_fair(c)
    return out


def active_tick(
    c: Common,
    *,
    prices: Sequence[float],
    tick: int,
    trade_count: int,
    rugged: bool,
    timer: int = 0,
    presale: bool = False,
    active: bool = True,
) -> Payload:
    """An active tick or the rug (samples ``05``/``10``); also the presale transition (``03``)."""
    return {
        "active": active,
        "price": wire_price(prices[tick]),
        "partialPrices": partial_prices(prices, tick),
        "tradeCount": trade_count,
        "rugged": rugged,
        "tickCount": tick,
        "cooldownTimer": timer,
        "cooldownPaused": False,
        "pauseMessage": "",
        "allowPreRoundBuys": presale,
        **_stats(c),
        "leaderboard": c.leaderboard,
        "gameId": c.game_id,
        "connectedPlayers": c.connected,
        "rugpool": _rugpool(c),
        "rugRoyale": dict(RUG_ROYALE_INACTIVE),
        "provablyFair": _provably_fair(c),
    }


def presale_transition(c: Common, trade_count: int, timer: int) -> Payload:
    """The event at ``cooldownTimer`` 10000 where ``allowPreRoundBuys`` flips (sample ``03``)."""
    return active_tick(
        c,
        prices=[START_PRICE],
        tick=0,
        trade_count=trade_count,
        rugged=False,
        timer=timer,
        presale=True,
        active=False,
    )


def game_start(c: Common) -> Payload:
    """Tick 0: ``active: true, tickCount: 0, price: 1`` (sample ``04``)."""
    return {
        "active": True,
        "price": wire_price(START_PRICE),
        "rugged": False,
        "tickCount": 0,
        "cooldownTimer": 0,
        "cooldownPaused": False,
        "pauseMessage": "",
        "allowPreRoundBuys": False,
        "leaderboard": c.leaderboard,
        "gameId": c.game_id,
        "connectedPlayers": c.connected,
        "gameVersion": c.version,
        "partialPrices": partial_prices([START_PRICE], 0),
        "provablyFair": _provably_fair(c),
    }


def history_entry(
    *,
    game_id: str,
    timestamp: int,
    prices: Sequence[float],
    peak: float,
    sidebets: list[Payload],
    server_seed: str,
    server_seed_hash: str,
    version: str,
) -> Payload:
    """One ``gameHistory`` element: a finished game with its seed revealed."""
    return {
        "id": game_id,
        "timestamp": timestamp,
        "prices": [wire_price(p) for p in prices],
        "peakMultiplier": peak,
        "rugged": True,
        "globalTrades": [],
        "globalSidebets": sidebets,
        "provablyFair": {"serverSeed": server_seed, "serverSeedHash": server_seed_hash},
        "gameVersion": version,
    }


def trace_arg(traceparent: str) -> Payload:
    """The first argument of two-argument events."""
    return {"__trace": True, "traceparent": traceparent}


def trade(
    *,
    trade_id: str,
    game_id: str,
    player_id: str,
    username: str,
    kind: str,
    price: float,
    qty: float,
    tick: int,
    amount: float,
) -> Payload:
    """``standard/newTrade`` payload; buys carry ``leverage`` (sells do not, as on the feed)."""
    if kind == "buy":
        return {
            "id": trade_id,
            "gameId": game_id,
            "playerId": player_id,
            "price": wire_price(price),
            "type": kind,
            "qty": qty,
            "tickIndex": tick,
            "coin": "solana",
            "amount": amount,
            "leverage": 1,
            "bonusPortion": 0,
            "realPortion": amount,
            "username": username,
            "level": 0,
        }
    return {
        "id": trade_id,
        "gameId": game_id,
        "playerId": player_id,
        "type": kind,
        "price": wire_price(price),
        "tickIndex": tick,
        "coin": "solana",
        "amount": amount,
        "qty": qty,
        "bonusPortion": 0,
        "realPortion": amount,
        "username": username,
        "level": 0,
    }


def new_sidebet(
    *,
    player_id: str,
    game_id: str,
    username: str,
    price: float,
    bet_amount: float,
    x_payout: int,
    coin_address: str,
    start_tick: int,
    end_tick: int,
    tick: int,
    timestamp: int,
) -> Payload:
    """``newSideBet`` payload (a placement)."""
    return {
        "playerId": player_id,
        "gameId": game_id,
        "username": username,
        "level": 0,
        "price": wire_price(price),
        "betAmount": bet_amount,
        "xPayout": x_payout,
        "coinAddress": coin_address,
        "startTick": start_tick,
        "endTick": end_tick,
        "tickIndex": tick,
        "timestamp": timestamp,
        "type": "placed",
    }


def global_sidebet(
    *,
    sidebet_id: str,
    player_id: str,
    game_id: str,
    username: str,
    bet_amount: float,
    x_payout: int,
    coin_address: str,
    start_tick: int,
    end_tick: int,
    timestamp: int,
) -> Payload:
    """A ``gameHistory[].globalSidebets`` element (real field names)."""
    return {
        "playerId": player_id,
        "username": username,
        "gameId": game_id,
        "betAmount": bet_amount,
        "xPayout": x_payout,
        "coinAddress": coin_address,
        "bonusPortion": 0,
        "realPortion": bet_amount,
        "timestamp": timestamp,
        "type": "placed",
        "startedAtTick": start_tick,
        "end": end_tick,
        "id": sidebet_id,
    }
