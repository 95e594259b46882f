"""What gets journaled: frozen records created by the decision core and the shell.

Every record is a frozen, slotted dataclass with plain values (str / int / float /
tuples), so the core can build them without I/O and the store can turn them into rows
with one ``attrgetter`` call. Money fields are integers exactly as in
``rugsd.daemon.game.accounting``: SOL in lamports, positions in nano-tokens. Times are
``ts_ms`` (ms since the epoch) as carried by the events — never read from a clock here.

String enums below name the allowed values; the records accept the enum members or
their plain string values (``StrEnum`` members are strings).
"""

from __future__ import annotations

import hashlib
import sys
from array import array
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from rugsd.daemon.fastinit import fast_init
from rugsd.daemon.game.accounting import Account, Sidebet


class Mode(StrEnum):
    """How a run was driven."""

    PAPER = "paper"
    LIVE = "live"
    REPLAY = "replay"
    BACKTEST = "backtest"


class Verdict(StrEnum):
    """What the risk gate made of an intent."""

    ORDER = "order"
    REFUSED = "refused"
    NONE = "none"  # nothing to judge (a WAIT intent)


class OrderStatus(StrEnum):
    """Life of an order. ``UNKNOWN`` is set by recovery for orders open at a crash."""

    SENT = "sent"
    FILLED = "filled"
    REJECTED = "rejected"
    FAILED = "failed"
    UNKNOWN = "unknown"


class KillSource(StrEnum):
    """Who pulled the kill switch."""

    CLI = "cli"
    SIGNAL = "signal"
    FILE = "file"
    TUI = "tui"
    AUTO = "auto"


@dataclass(frozen=True, slots=True)
class RunStarted:
    """One daemon run (a process start, a replay, a backtest)."""

    run_id: str
    started_ts_ms: int
    mode: str
    strategy: str
    bundle_version: str
    feature_schema_hash: str
    config_json: str
    git_commit: str


@fast_init
@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One decision of the core: the inputs summary, the intent and the risk verdict.

    ``features`` is optional (``journal.decisions_keep_features``): a tuple of floats or
    the raw float32 bytes; the store keeps float32 bytes and reads back a tuple.
    ``intent_amount`` is lamports (buys, sidebets), ``intent_percentage`` the sell size.
    """

    run_id: str
    seq: int
    ts_ms: int
    game_id: str
    tick: int
    phase: str
    price: float
    features_hash: str
    features: tuple[float, ...] | bytes | None
    action_probs: tuple[float, ...] | None
    p_rug: float | None
    intent_action: str
    intent_amount: int
    intent_percentage: int
    verdict: str
    reason: str
    order_id: str | None
    trading_state: str


@fast_init
@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order the risk gate approved, as handed to an executor."""

    order_id: str
    run_id: str
    ts_ms: int
    game_id: str
    tick: int
    action: str
    amount: int
    percentage: int
    status: str
    detail: str


@fast_init
@dataclass(frozen=True, slots=True)
class FillRecord:
    """Money moved (``accounting.Fill`` plus where and when).

    ``order_id`` is None for fills no order caused (rug sells, sidebet resolutions).
    """

    order_id: str | None
    run_id: str
    ts_ms: int
    game_id: str
    tick: int
    kind: str
    price: float
    qty: int
    amount: int
    realised: int
    balance_after: int


@fast_init
@dataclass(frozen=True, slots=True)
class PositionSnapshot:
    """The full ``Account`` state; recovery restores from the latest one.

    ``mark_price`` (optional, extra to the brief) is the price the position was marked
    at, so recovery can compute equity; without it equity uses the cost basis.
    """

    run_id: str
    ts_ms: int
    game_id: str
    tick: int
    balance: int
    qty: int
    cost: int
    realised: int
    credited: int
    sidebet_start: int | None
    sidebet_end: int | None
    sidebet_stake: int | None
    entry_tick: int | None
    mark_price: float | None = None

    @classmethod
    def of(
        cls,
        account: Account,
        *,
        run_id: str,
        ts_ms: int,
        game_id: str,
        tick: int,
        mark_price: float | None = None,
    ) -> PositionSnapshot:
        """Snapshot ``account`` (the sidebet's ``x_payout`` is the rules' constant)."""
        bet = account.sidebet
        return cls(
            run_id=run_id,
            ts_ms=ts_ms,
            game_id=game_id,
            tick=tick,
            balance=account.balance,
            qty=account.qty,
            cost=account.cost,
            realised=account.realised,
            credited=account.credited,
            sidebet_start=bet.start_tick if bet else None,
            sidebet_end=bet.end_tick if bet else None,
            sidebet_stake=bet.stake if bet else None,
            entry_tick=account.entry_tick,
            mark_price=mark_price,
        )

    def to_account(self) -> Account:
        """The ``Account`` this snapshot describes."""
        bet = None
        if self.sidebet_stake is not None:
            bet = Sidebet(
                start_tick=int(self.sidebet_start or 0),
                end_tick=int(self.sidebet_end or 0),
                stake=self.sidebet_stake,
            )
        return Account(
            balance=self.balance,
            qty=self.qty,
            cost=self.cost,
            sidebet=bet,
            credited=self.credited,
            realised=self.realised,
            entry_tick=self.entry_tick,
        )


@dataclass(frozen=True, slots=True)
class RiskEvent:
    """A trading-state transition (ACTIVE / REDUCING / HALTED / KILLED)."""

    run_id: str
    ts_ms: int
    old_state: str
    new_state: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class KillEvent:
    """The kill switch was pulled."""

    run_id: str
    ts_ms: int
    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class OperatorCommand:
    """A command an operator gave (kill, clear-kill, pause...), and its result."""

    run_id: str
    ts_ms: int
    command: str
    who: str
    result: str


@fast_init
@dataclass(frozen=True, slots=True)
class TickRecord:
    """One price tick (journaled with the decisions; exported to the Parquet dataset)."""

    run_id: str
    ts_ms: int
    game_id: str
    tick: int
    price: float
    phase: str


@fast_init
@dataclass(frozen=True, slots=True)
class GameRecord:
    """A finished game: rug tick, peak and (once revealed) the server seed."""

    run_id: str
    game_id: str
    rug_tick: int
    peak: float
    server_seed: str | None
    ended_ts_ms: int


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """The venue-integrity audit of one game (``rugsd.daemon.audit``).

    ``result``: verified | hash_mismatch | path_mismatch | unverifiable. ``commitment`` is
    the ``serverSeedHash`` seen during the game; ``rug_tick`` the seed's; ``entry_tick``
    the first active tick seen live (0: watched from the start). For a path mismatch,
    ``first_tick`` / ``expected`` / ``observed`` are the first differing tick and both
    values. ``observations`` is the evidence as JSON (``Observed.to_json``), enough for
    ``rugsd audit --data-dir`` to recompute the verdict.
    """

    run_id: str
    ts_ms: int
    game_id: str
    result: str
    version: str | None
    commitment: str | None
    server_seed: str | None
    rug_tick: int | None
    entry_tick: int | None
    ticks_observed: int
    first_tick: int | None
    expected: float | None
    observed: float | None
    detail: str
    observations: str


Record = (
    RunStarted
    | DecisionRecord
    | OrderRecord
    | FillRecord
    | PositionSnapshot
    | RiskEvent
    | KillEvent
    | OperatorCommand
    | TickRecord
    | GameRecord
    | AuditRecord
)


def features_bytes(features: tuple[float, ...] | bytes | bytearray | memoryview | None) -> bytes:
    """The float32 little-endian bytes of a feature vector (empty for None)."""
    if features is None:
        return b""
    if isinstance(features, bytes | bytearray | memoryview):
        return bytes(features)
    if isinstance(features, np.ndarray):  # the feature builder's own float32 vector
        return np.ascontiguousarray(features, dtype="<f4").tobytes()
    packed = array("f", features)
    if sys.byteorder == "big":  # on-disk format is little-endian everywhere
        packed.byteswap()
    return packed.tobytes()


def features_from_bytes(raw: bytes | None) -> tuple[float, ...] | None:
    """Decode float32 bytes written by ``features_bytes`` (None for NULL)."""
    if raw is None:
        return None
    out = array("f")
    out.frombytes(raw)
    if sys.byteorder == "big":
        out.byteswap()
    return tuple(out)


def features_hash(features: tuple[float, ...] | bytes | None) -> str:
    """Short content hash of the float32 feature bytes (16 hex characters)."""
    raw = features if type(features) is bytes else features_bytes(features)
    return hashlib.blake2b(raw, digest_size=8).hexdigest()
