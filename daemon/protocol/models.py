"""Pydantic models of the Socket.IO payloads the daemon reads, and their conversion.

The models are the wire contract: tolerant of fields we do not use (``extra="ignore"``:
leaderboard, rugRoyale, godCandle…, highestTodayPrices are never validated), strict on
the ones we do (exact JSON types — no "1" for 1, no bool for int —, finite prices >= 0,
ticks in ``0..MAX_WIRE_TICK``, gameId ``YYYYMMDD-<16 lowercase hex>``, which every real
capture matches).

Large optional blobs of ``gameStateUpdate`` (``partialPrices``, ``prices``,
``gameHistory`` entries, ``provablyFair``) are validated one by one: a bad blob is dropped
and reported (a "degraded" note) instead of losing the whole tick.

Shapes of the logged-in-player events (``playerUpdate``, ``currentSidebet``,
``currentSidebetResult``) are not in our captures: they follow DESIGN.md and public
third-party notes (``cash, cumulativePnL, positionQty, avgCost, totalInvested``;
sidebet result ``type: "payout"`` with ``payout``/``profit``) and may need adjusting.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from rugsd.daemon.events import (
    FinishedGame,
    GameUpdate,
    PlayerUpdate,
    SessionStats,
    SidebetEvent,
    TradeEvent,
)
from rugsd.daemon.game.rules import MAX_TICKS

GAME_ID_REGEX = r"^[0-9]{8}-[0-9a-f]{16}$"
MAX_WIRE_TICK = MAX_TICKS + 1000  # a game has <= MAX_TICKS + 1 ticks; margin for post-rug
MAX_COOLDOWN_MS = 3_600_000  # far above the real 15 s; rejects garbage, allows pauses
MAX_COUNT = 2**53  # counters (trades, players): anything JSON can hold exactly

GameId = Annotated[str, StringConstraints(pattern=GAME_ID_REGEX)]
Price = Annotated[float, Field(ge=0)]  # finiteness: ``allow_inf_nan=False`` below
Tick = Annotated[int, Field(ge=0, le=MAX_WIRE_TICK)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
TickKey = Annotated[str, StringConstraints(pattern=r"^(0|[1-9][0-9]{0,4})$")]


class _Wire(BaseModel):
    model_config = ConfigDict(
        extra="ignore", strict=True, allow_inf_nan=False, frozen=True, hide_input_in_errors=True
    )


class ProvablyFairWire(_Wire):
    """``provablyFair``: the seed hash now, the seed itself once the game is over."""

    serverSeedHash: str | None = None
    serverSeed: str | None = None
    version: str | None = None


class PartialPricesWire(_Wire):
    """``partialPrices``: the last few ticks' prices, keys are tick numbers as strings."""

    values: dict[TickKey, Price]

    def pairs(self) -> tuple[tuple[int, float], ...]:
        """Sorted ``(tick, price)`` pairs; ticks beyond ``MAX_WIRE_TICK`` are an error."""
        out = sorted((int(k), v) for k, v in self.values.items())
        if out and out[-1][0] > MAX_WIRE_TICK:
            raise ValueError("tick out of range")
        return tuple(out)


class HistoryEntryWire(_Wire):
    """One ``gameHistory`` entry: a finished game with its seed revealed."""

    id: GameId
    timestamp: Count | None = None
    peakMultiplier: Price
    rugged: bool = True
    gameVersion: str | None = None
    prices: list[Price] | None = Field(None, max_length=MAX_WIRE_TICK + 1)
    provablyFair: ProvablyFairWire | None = None

    def to_event(self) -> FinishedGame:
        """The internal ``FinishedGame``."""
        pf = self.provablyFair
        return FinishedGame(
            game_id=self.id,
            timestamp_ms=self.timestamp,
            peak=self.peakMultiplier,
            rugged=self.rugged,
            version=self.gameVersion,
            prices=tuple(self.prices) if self.prices is not None else None,
            server_seed=pf.serverSeed if pf is not None else None,
            server_seed_hash=pf.serverSeedHash if pf is not None else None,
        )


class GameStateUpdateWire(_Wire):
    """``gameStateUpdate``: the fields the daemon uses; blobs are validated separately."""

    gameId: GameId
    cooldownTimer: Annotated[int, Field(ge=0, le=MAX_COOLDOWN_MS)]
    allowPreRoundBuys: bool = False
    active: bool = False
    rugged: bool = False
    price: Price | None = None
    tickCount: Tick | None = None
    tradeCount: Count | None = None
    connectedPlayers: Count | None = None
    averageMultiplier: Price | None = None
    count2x: Count | None = None
    count10x: Count | None = None
    count50x: Count | None = None
    count100x: Count | None = None
    gameVersion: str | None = None
    provablyFair: Any = None
    partialPrices: Any = None
    prices: Any = None
    gameHistory: Any = None

    @model_validator(mode="after")
    def _ticking_needs_price(self) -> GameStateUpdateWire:
        if (self.active or self.rugged) and (self.price is None or self.tickCount is None):
            raise ValueError("active/rugged event without price and tickCount")
        return self


class TradeWire(_Wire):
    """``standard/newTrade``."""

    id: Annotated[str, StringConstraints(min_length=1)]
    gameId: GameId
    playerId: str
    username: str | None = None
    type: Literal["buy", "sell", "short_open", "short_close"]
    price: Price
    qty: Price
    tickIndex: Tick
    amount: Price
    coin: str | None = None


class SidebetWire(_Wire):
    """``newSideBet`` / ``currentSidebet`` / ``currentSidebetResult`` (and history items,
    which name the window ``startedAtTick``/``end``)."""

    playerId: str
    gameId: GameId
    username: str | None = None
    betAmount: Price
    xPayout: Annotated[float, Field(gt=0)]
    startTick: Tick = Field(validation_alias=AliasChoices("startTick", "startedAtTick"))
    endTick: Tick = Field(validation_alias=AliasChoices("endTick", "end"))
    tickIndex: Tick | None = None
    price: Price | None = None
    type: str = "placed"
    payout: Price | None = None

    def to_event(self, ts_ms: int, *, result: bool = False) -> SidebetEvent:
        """The internal ``SidebetEvent``; ``type`` normalised to placed | won | lost."""
        return SidebetEvent(
            ts_ms=ts_ms,
            player_id=self.playerId,
            game_id=self.gameId,
            username=self.username,
            bet_amount=self.betAmount,
            x_payout=self.xPayout,
            start_tick=self.startTick,
            end_tick=self.endTick,
            tick=self.tickIndex,
            price=self.price,
            type=_sidebet_type(self.type, self.payout, result),
        )


_WON = frozenset({"won", "win", "payout", "paid"})
_LOST = frozenset({"lost", "loss", "lose"})


def _sidebet_type(raw: str, payout: float | None, result: bool) -> str:
    low = raw.lower()
    if low == "placed" and not result:
        return "placed"
    if low in _WON:
        return "won"
    if low in _LOST:
        return "lost"
    if result and payout is not None:
        return "won" if payout > 0 else "lost"
    raise ValueError(f"unknown sidebet type {raw[:20]!r}")


class PlayerUpdateWire(_Wire):
    """``playerUpdate``: the logged-in player's balance and position (shape not captured
    by us; fields per third-party notes)."""

    id: str | None = Field(None, validation_alias=AliasChoices("id", "playerId"))
    gameId: GameId | None = None
    cash: Price
    positionQty: Price
    avgCost: Price
    totalInvested: Price
    cumulativePnL: float | None = Field(None, validation_alias=AliasChoices("cumulativePnL", "pnl"))

    def to_event(self, ts_ms: int) -> PlayerUpdate:
        """The internal ``PlayerUpdate``."""
        return PlayerUpdate(
            ts_ms=ts_ms,
            player_id=self.id,
            game_id=self.gameId,
            cash=self.cash,
            position_qty=self.positionQty,
            avg_cost=self.avgCost,
            total_invested=self.totalInvested,
            pnl=self.cumulativePnL,
        )


_BACKFILL = TypeAdapter(
    Annotated[list[Price], Field(max_length=MAX_WIRE_TICK + 1)],
    config=ConfigDict(strict=True, allow_inf_nan=False),
)


def error_reason(err: ValidationError, prefix: str = "") -> str:
    """A short, bounded reason code from a validation error: ``field:error_type``.

    Only model field names (never dynamic dict keys or list indices) enter the code, so
    the set of codes stays small however hostile the input.
    """
    first = err.errors(include_url=False, include_context=False, include_input=False)[0]
    field = next((p for p in first["loc"] if isinstance(p, str) and not p.isdigit()), "")
    if field and len(field) > 32:
        field = field[:32]
    code = f"{field}:{first['type']}" if field else first["type"]
    return f"{prefix}{code}"


def convert_blobs(
    raw: dict[str, Any], notes: list[str]
) -> tuple[
    tuple[tuple[int, float], ...],
    tuple[float, ...] | None,
    tuple[FinishedGame, ...],
    tuple[str | None, str | None],
]:
    """Validate the optional blobs of a gameStateUpdate one by one.

    Returns ``(partial_prices, backfill, history, (seed_hash, pf_version))``; every blob
    that fails is dropped and its reason appended to ``notes``.
    """
    partial: tuple[tuple[int, float], ...] = ()
    pp = raw.get("partialPrices")
    if pp is not None:
        try:
            partial = PartialPricesWire.model_validate(pp).pairs()
        except ValidationError as err:
            notes.append(error_reason(err, "partialPrices."))
        except ValueError:
            notes.append("partialPrices.values:tick_range")
    backfill: tuple[float, ...] | None = None
    pr = raw.get("prices")
    if pr is not None:
        try:
            backfill = tuple(_BACKFILL.validate_python(pr))
        except ValidationError as err:
            notes.append(error_reason(err, "prices."))
    history: list[FinishedGame] = []
    gh = raw.get("gameHistory")
    if gh is not None:
        if type(gh) is list:
            for item in gh:
                try:
                    history.append(HistoryEntryWire.model_validate(item).to_event())
                except ValidationError as err:
                    notes.append(error_reason(err, "gameHistory."))
        else:
            notes.append("gameHistory:list_type")
    seed_hash: str | None = None
    pf_version: str | None = None
    pfr = raw.get("provablyFair")
    if pfr is not None:
        try:
            pf = ProvablyFairWire.model_validate(pfr)
            seed_hash, pf_version = pf.serverSeedHash, pf.version
        except ValidationError as err:
            notes.append(error_reason(err, "provablyFair."))
    return partial, backfill, tuple(history), (seed_hash, pf_version)


def game_update_from_wire(raw: dict[str, Any], ts_ms: int, notes: list[str]) -> GameUpdate:
    """The validated (slow, reference) path: ``raw`` gameStateUpdate → ``GameUpdate``.

    Raises ``ValidationError`` when a used field is wrong; dropped blobs go to ``notes``.
    """
    m = GameStateUpdateWire.model_validate(raw)
    partial, backfill, history, (seed_hash, pf_version) = convert_blobs(raw, notes)
    return GameUpdate(
        ts_ms=ts_ms,
        game_id=m.gameId,
        active=m.active,
        rugged=m.rugged,
        cooldown_ms=m.cooldownTimer,
        allow_prebuys=m.allowPreRoundBuys,
        price=m.price,
        tick=m.tickCount,
        trade_count=m.tradeCount,
        partial_prices=partial,
        backfill=backfill,
        stats=_stats(m),
        history=history,
        server_seed_hash=seed_hash,
        version=pf_version if pf_version is not None else m.gameVersion,
        connected_players=m.connectedPlayers,
    )


def _stats(m: GameStateUpdateWire) -> SessionStats | None:
    if (
        m.averageMultiplier is None
        and m.count2x is None
        and m.count10x is None
        and m.count50x is None
        and m.count100x is None
    ):
        return None
    return SessionStats(m.averageMultiplier, m.count2x, m.count10x, m.count50x, m.count100x)


def trade_from_wire(raw: dict[str, Any], ts_ms: int) -> TradeEvent:
    """``standard/newTrade`` → ``TradeEvent`` (raises ``ValidationError``)."""
    m = TradeWire.model_validate(raw)
    return TradeEvent(
        ts_ms=ts_ms,
        trade_id=m.id,
        game_id=m.gameId,
        player_id=m.playerId,
        username=m.username,
        type=m.type,
        price=m.price,
        qty=m.qty,
        tick=m.tickIndex,
        amount=m.amount,
        coin=m.coin,
    )


def sidebet_from_wire(raw: dict[str, Any], ts_ms: int, *, result: bool = False) -> SidebetEvent:
    """``newSideBet``/``currentSidebet`` (``result=False``) or ``currentSidebetResult``
    (``result=True``) → ``SidebetEvent`` (raises ``ValidationError``/``ValueError``)."""
    return SidebetWire.model_validate(raw).to_event(ts_ms, result=result)


def player_update_from_wire(raw: dict[str, Any], ts_ms: int) -> PlayerUpdate:
    """``playerUpdate`` → ``PlayerUpdate`` (raises ``ValidationError``)."""
    return PlayerUpdateWire.model_validate(raw).to_event(ts_ms)


