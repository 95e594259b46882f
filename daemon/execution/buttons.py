"""Human demonstrations: ``ButtonEvent`` records, action sequences, and their Parquet files.

Every press of a venue control becomes one ``ButtonEvent`` with the game context at the
moment of the press (captured in the page, see ``daemon/execution/js/tap.js``). Presses
are grouped into *action sequences*: the bet adjustments and percentage picks that lead
to an action (BUY / SELL / SIDEBET) — ``[+0.01, +0.01, BUY]`` is one sequence — so the
training issue can turn each sequence into an (observation, action) pair for behaviour
cloning. A sequence ends at its action; a new game also starts a new one.

Files: ``DIR/button_events/<session>-<part>.parquet`` (schema ``SCHEMA``; SOL amounts as
exact decimals with 9 places).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyarrow as pa

from rugsd.daemon.events import Phase
from rugsd.daemon.execution.selectors import CONTROL_BY_ID, ButtonCategory
from rugsd.daemon.journal.dataset import write_atomic

PHASE_CODE = {Phase.COOLDOWN: 0, Phase.PRESALE: 1, Phase.ACTIVE: 2, Phase.RUGGED: 3}
NINE = Decimal("0.000000001")
DEC = pa.decimal128(24, 9)

SCHEMA = pa.schema([
    ("ts", pa.timestamp("ms", tz="UTC")),
    ("server_ts", pa.int64()),
    ("button_id", pa.string()),
    ("button_category", pa.string()),
    ("tick", pa.int32()),
    ("price", pa.float64()),
    ("game_phase", pa.int8()),
    ("game_id", pa.string()),
    ("balance", DEC),
    ("position_qty", DEC),
    ("bet_amount", DEC),
    ("ticks_since_last_action", pa.int32()),
    ("sequence_id", pa.string()),
    ("sequence_position", pa.int32()),
    ("session_id", pa.string()),
    ("player_id", pa.string()),
    ("trusted", pa.bool_()),
])


def write_part(directory: Path, session_id: str, index: int, table: pa.Table) -> Path:
    """Part file ``<session>-<index>.parquet``, written atomically (temp, fsync, rename)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{session_id}-{index:04d}.parquet"
    write_atomic(table, path)
    return path


@dataclass(frozen=True, slots=True)
class ButtonEvent:
    """One press with the game and player state just before the site handled it."""

    ts: datetime
    server_ts: int | None
    button_id: str
    button_category: str
    tick: int
    price: float
    game_phase: int  # 0 cooldown, 1 presale, 2 active, 3 rugged, -1 unknown
    game_id: str
    balance: Decimal
    position_qty: Decimal
    bet_amount: Decimal
    ticks_since_last_action: int  # -1 before the first action of the session
    sequence_id: str
    sequence_position: int
    session_id: str
    player_id: str | None
    trusted: bool  # a real (browser-generated) click, not a script's


def to_decimal(value: Any) -> Decimal:
    """A SOL/token amount from the page (number or input text) → 9-place decimal (bad → 0)."""
    if isinstance(value, bool) or value is None:
        return Decimal(0)
    if isinstance(value, float) and not math.isfinite(value):
        return Decimal(0)
    try:
        d = Decimal(str(value).strip() or "0")
    except (InvalidOperation, ValueError):
        return Decimal(0)
    if not d.is_finite() or abs(d) >= Decimal(10) ** 14:
        return Decimal(0)
    return d.quantize(NINE)


def phase_code(phase: Any) -> int:
    """The page's phase string → 0..3 (-1 unknown)."""
    try:
        return PHASE_CODE.get(Phase(phase), -1)
    except ValueError:
        return -1


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return int(value) if math.isfinite(value) else default


@dataclass(slots=True)
class Sequencer:
    """Groups presses into action sequences (pure, one per recording session)."""

    session_id: str
    count: int = 0
    position: int = 0
    current: str | None = None
    game_id: str | None = None
    last_action_seen: int | None = None

    def event(self, snap: dict[str, Any]) -> ButtonEvent | None:
        """The ``ButtonEvent`` of one in-page snapshot (None for an unknown button)."""
        button_id = snap.get("button_id")
        control = CONTROL_BY_ID.get(button_id) if isinstance(button_id, str) else None
        if control is None:
            return None
        game_id = snap.get("game_id") if isinstance(snap.get("game_id"), str) else ""
        if self.current is None or game_id != self.game_id:
            self.count += 1
            self.current = f"{self.session_id}-{self.count:05d}"
            self.position = 0
            self.game_id = game_id
        seen = _int(snap.get("ticks_seen"))
        since = -1 if self.last_action_seen is None else seen - self.last_action_seen
        wall = snap.get("wall_ms")
        wall_ms = float(wall) if isinstance(wall, int | float) and math.isfinite(wall) else 0.0
        price = snap.get("price")
        server_ts = snap.get("server_ts")
        ev = ButtonEvent(
            ts=datetime.fromtimestamp(wall_ms / 1000.0, tz=UTC),
            server_ts=_int(server_ts) if isinstance(server_ts, int | float) else None,
            button_id=control.button_id,
            button_category=control.category.value,
            tick=_int(snap.get("tick")),
            price=float(price) if isinstance(price, int | float) and math.isfinite(price) else 0.0,
            game_phase=phase_code(snap.get("phase")),
            game_id=game_id,
            balance=to_decimal(snap.get("balance")),
            position_qty=to_decimal(snap.get("position_qty")),
            bet_amount=to_decimal(snap.get("bet_text")),
            ticks_since_last_action=since,
            sequence_id=self.current,
            sequence_position=self.position,
            session_id=self.session_id,
            player_id=snap.get("player_id") if isinstance(snap.get("player_id"), str) else None,
            trusted=bool(snap.get("trusted")),
        )
        self.position += 1
        if control.category is ButtonCategory.ACTION:
            self.last_action_seen = seen
            self.current = None  # the action closes the sequence
        return ev


class ButtonEventWriter:
    """Buffers ``ButtonEvent``s and writes them as Parquet parts (``flush`` / ``close``)."""

    def __init__(self, out_dir: Path, session_id: str, rows_per_file: int = 500) -> None:
        """Files go to ``out_dir/button_events/``."""
        self.dir = Path(out_dir) / "button_events"
        self.session_id = session_id
        self.rows_per_file = rows_per_file
        self.rows: list[dict[str, Any]] = []
        self.parts: list[Path] = []

    def add(self, ev: ButtonEvent) -> None:
        """Buffer one event; a full buffer is written out."""
        self.rows.append(asdict(ev))
        if len(self.rows) >= self.rows_per_file:
            self.flush()

    def flush(self) -> Path | None:
        """Write the buffered rows as one new part file (atomic rename)."""
        if not self.rows:
            return None
        table = pa.Table.from_pylist(self.rows, schema=SCHEMA)
        path = write_part(self.dir, self.session_id, len(self.parts), table)
        self.parts.append(path)
        self.rows = []
        return path

    def close(self) -> list[Path]:
        """Flush and return every part written."""
        self.flush()
        return list(self.parts)
