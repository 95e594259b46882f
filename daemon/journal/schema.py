"""The sqlite schema of the journal and the record <-> row conversions.

One ``TableSpec`` per journaled record type: explicit column types (tables are
``STRICT``, so a wrong type is an error, not a silent coercion), primary keys, indexes
and the row encoder/decoder. Rows are plain tuples in record-field order so the store
can ``executemany`` them; a few tables carry extra columns the records do not have
(``id``, ``updated_ts_ms``, ``last_fill_id``), always after the record's columns.

Feature vectors are stored as float32 little-endian BLOBs, action probabilities as
float64 little-endian BLOBs (exact round trip).
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any

import numpy as np

from rugsd.daemon.journal.records import (
    AuditRecord,
    DecisionRecord,
    FillRecord,
    GameRecord,
    KillEvent,
    OperatorCommand,
    OrderRecord,
    PositionSnapshot,
    RiskEvent,
    RunStarted,
    TickRecord,
    features_bytes,
    features_from_bytes,
)

Row = tuple[Any, ...]


def probs_bytes(probs: tuple[float, ...] | None) -> bytes | None:
    """float64 little-endian bytes of the action probabilities (None stays None)."""
    if probs is None:
        return None
    if isinstance(probs, np.ndarray):
        return np.ascontiguousarray(probs, dtype="<f8").tobytes()
    packed = array("d", probs)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def probs_from_bytes(raw: bytes | None) -> tuple[float, ...] | None:
    """Decode ``probs_bytes`` output."""
    if raw is None:
        return None
    out = array("d")
    out.frombytes(raw)
    if sys.byteorder == "big":
        out.byteswap()
    return tuple(out)


@dataclass(frozen=True)
class TableSpec:
    """How one record type is stored."""

    name: str
    record: type
    columns: dict[str, type]  # record fields first (same order), then extras
    pk: str | tuple[str, ...] | None
    not_null: frozenset[str]
    indexes: tuple[tuple[str, ...], ...]
    extras: tuple[str, ...] = ()  # columns that are not record fields
    encode: Callable[[Any], Row] | None = None
    decode: Callable[[Row], Any] | None = None

    @property
    def field_names(self) -> tuple[str, ...]:
        """The record's fields, i.e. the columns an insert of a record fills."""
        return tuple(f.name for f in fields(self.record))

    def to_row(self, record: Any) -> Row:
        """The insert tuple for ``record`` (record fields only)."""
        return (self.encode or _getter(self))(record)

    def from_row(self, row: Row) -> Any:
        """The record for a row selected as ``field_names``."""
        return self.decode(row) if self.decode else self.record(*row)

    def insert_sql(self, verb: str = "INSERT") -> str:
        """A prepared insert of the record fields."""
        names = self.field_names
        cols = ", ".join(names)
        marks = ", ".join("?" * len(names))
        return f"{verb} INTO {self.name} ({cols}) VALUES ({marks})"

    def select_sql(self) -> str:
        """Select the record fields (append WHERE / ORDER BY)."""
        return f"SELECT {', '.join(self.field_names)} FROM {self.name}"


_GETTERS: dict[str, Callable[[Any], Row]] = {}


def _getter(spec: TableSpec) -> Callable[[Any], Row]:
    got = _GETTERS.get(spec.name)
    if got is None:
        got = _GETTERS[spec.name] = attrgetter(*spec.field_names)
    return got


def encode_decision(r: DecisionRecord) -> Row:
    """Decision row: features as float32 bytes, probabilities as float64 bytes."""
    feats = r.features
    return (
        r.run_id,
        r.seq,
        r.ts_ms,
        r.game_id,
        r.tick,
        r.phase,
        float(r.price),  # numpy scalars from the models do not bind in sqlite3
        r.features_hash,
        None if feats is None else features_bytes(feats),
        None if r.action_probs is None else probs_bytes(r.action_probs),
        None if r.p_rug is None else float(r.p_rug),
        r.intent_action,
        r.intent_amount,
        r.intent_percentage,
        r.verdict,
        r.reason,
        r.order_id,
        r.trading_state,
    )


def decode_decision(row: Row) -> DecisionRecord:
    """Inverse of ``encode_decision`` (features come back as a float tuple)."""
    values = list(row)
    values[8] = features_from_bytes(values[8])
    values[9] = probs_from_bytes(values[9])
    return DecisionRecord(*values)


RUNS = TableSpec(
    name="runs",
    record=RunStarted,
    columns={
        "run_id": str,
        "started_ts_ms": int,
        "mode": str,
        "strategy": str,
        "bundle_version": str,
        "feature_schema_hash": str,
        "config_json": str,
        "git_commit": str,
    },
    pk="run_id",
    not_null=frozenset({"started_ts_ms", "mode"}),
    indexes=(("started_ts_ms",),),
)

DECISIONS = TableSpec(
    name="decisions",
    record=DecisionRecord,
    columns={
        "run_id": str,
        "seq": int,
        "ts_ms": int,
        "game_id": str,
        "tick": int,
        "phase": str,
        "price": float,
        "features_hash": str,
        "features": bytes,
        "action_probs": bytes,
        "p_rug": float,
        "intent_action": str,
        "intent_amount": int,
        "intent_percentage": int,
        "verdict": str,
        "reason": str,
        "order_id": str,
        "trading_state": str,
    },
    # rowid table; its only index is ts_ms (retention, export by day, report windows):
    # ~90k inserts/s with it, ~120k without (bench/journal.py). (run_id, seq) is unique
    # by construction. Rowids only grow: compaction never deletes the newest row, so
    # a rowid is never reused and "rowid <= m" names what a Parquet day file holds.
    pk=None,
    not_null=frozenset({"run_id", "seq", "ts_ms", "intent_action", "verdict"}),
    indexes=(("ts_ms",),),
    encode=encode_decision,
    decode=decode_decision,
)

TICKS = TableSpec(
    name="ticks",
    record=TickRecord,
    columns={
        "run_id": str,
        "ts_ms": int,
        "game_id": str,
        "tick": int,
        "price": float,
        "phase": str,
    },
    pk=None,  # rowid table like decisions, batched with them
    not_null=frozenset({"run_id", "ts_ms", "tick"}),
    indexes=(("ts_ms",),),
    encode=lambda r: (r.run_id, r.ts_ms, r.game_id, r.tick, float(r.price), str(r.phase)),
)

ORDERS = TableSpec(
    name="orders",
    record=OrderRecord,
    columns={
        "order_id": str,
        "run_id": str,
        "ts_ms": int,
        "game_id": str,
        "tick": int,
        "action": str,
        "amount": int,
        "percentage": int,
        "status": str,
        "detail": str,
        "updated_ts_ms": int,
    },
    pk="order_id",
    not_null=frozenset({"order_id", "run_id", "ts_ms", "action", "status"}),
    indexes=(("status",), ("ts_ms",)),
    extras=("updated_ts_ms",),
)

FILLS = TableSpec(
    name="fills",
    record=FillRecord,
    columns={
        "order_id": str,
        "run_id": str,
        "ts_ms": int,
        "game_id": str,
        "tick": int,
        "kind": str,
        "price": float,
        "qty": int,
        "amount": int,
        "realised": int,
        "balance_after": int,
        "id": int,
    },
    pk="id",
    not_null=frozenset({"run_id", "ts_ms", "kind", "qty", "amount", "realised"}),
    indexes=(("order_id",), ("ts_ms",), ("run_id", "game_id")),
    extras=("id",),
)

POSITIONS = TableSpec(
    name="positions",
    record=PositionSnapshot,
    columns={
        "run_id": str,
        "ts_ms": int,
        "game_id": str,
        "tick": int,
        "balance": int,
        "qty": int,
        "cost": int,
        "realised": int,
        "credited": int,
        "sidebet_start": int,
        "sidebet_end": int,
        "sidebet_stake": int,
        "entry_tick": int,
        "mark_price": float,
        "id": int,
        # MAX(fills.id) when the snapshot was written: recovery rolls later fills forward
        "last_fill_id": int,
    },
    pk="id",
    not_null=frozenset({"run_id", "ts_ms", "balance", "qty", "cost", "realised", "credited"}),
    indexes=(("ts_ms",), ("run_id",)),
    extras=("id", "last_fill_id"),
)

RISK_EVENTS = TableSpec(
    name="risk_events",
    record=RiskEvent,
    columns={
        "run_id": str,
        "ts_ms": int,
        "old_state": str,
        "new_state": str,
        "reason": str,
        "detail": str,
        "id": int,
    },
    pk="id",
    not_null=frozenset({"run_id", "ts_ms", "new_state"}),
    indexes=(("ts_ms",),),
    extras=("id",),
)

KILL_EVENTS = TableSpec(
    name="kill_events",
    record=KillEvent,
    columns={"run_id": str, "ts_ms": int, "source": str, "reason": str, "id": int},
    pk="id",
    not_null=frozenset({"run_id", "ts_ms", "source"}),
    indexes=(("ts_ms",),),
    extras=("id",),
)

OPERATOR_COMMANDS = TableSpec(
    name="operator_commands",
    record=OperatorCommand,
    columns={
        "run_id": str,
        "ts_ms": int,
        "command": str,
        "who": str,
        "result": str,
        "id": int,
    },
    pk="id",
    not_null=frozenset({"run_id", "ts_ms", "command"}),
    indexes=(("ts_ms",),),
    extras=("id",),
)

GAMES = TableSpec(
    name="games",
    record=GameRecord,
    columns={
        "run_id": str,
        "game_id": str,
        "rug_tick": int,
        "peak": float,
        "server_seed": str,
        "ended_ts_ms": int,
    },
    pk=("run_id", "game_id"),
    not_null=frozenset({"run_id", "game_id", "ended_ts_ms"}),
    indexes=(("ended_ts_ms",),),
)

# venue-integrity audits: one row per audited game (self-contained; added with issue 13)
AUDITS = TableSpec(
    name="audits",
    record=AuditRecord,
    columns={
        "run_id": str,
        "ts_ms": int,
        "game_id": str,
        "result": str,
        "version": str,
        "commitment": str,
        "server_seed": str,
        "rug_tick": int,
        "entry_tick": int,
        "ticks_observed": int,
        "first_tick": int,
        "expected": float,
        "observed": float,
        "detail": str,
        "observations": str,
        "id": int,
    },
    pk="id",
    not_null=frozenset({"run_id", "ts_ms", "game_id", "result"}),
    indexes=(("ts_ms",), ("result",)),
    extras=("id",),
)

TABLES: tuple[TableSpec, ...] = (
    RUNS,
    DECISIONS,
    TICKS,
    ORDERS,
    FILLS,
    POSITIONS,
    RISK_EVENTS,
    KILL_EVENTS,
    OPERATOR_COMMANDS,
    GAMES,
    AUDITS,
)
SPEC_BY_RECORD: dict[type, TableSpec] = {spec.record: spec for spec in TABLES}
