"""The control-plane wire protocol: line-delimited JSON over a Unix socket (version 1).

Pure module (no I/O): message models, request parsing, the snapshot schema and a
tolerant snapshot parser for clients. ``docs/control-protocol.md`` is the prose version.

Requests (client → daemon), one JSON object per line::

    {"id": 7, "cmd": "pause", "args": {"reason": "lunch"}, "who": "cli:alice@pts/3"}

Answers (daemon → client) carry ``"v": PROTOCOL_VERSION`` and a ``type``:

- ``result``   – a command's answer with the resulting risk state,
- ``error``    – a request was refused (one clear line); the connection stays up,
- ``snapshot`` – streamed after ``subscribe``, every interval, until the client goes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

PROTOCOL_VERSION = 1
# snapshots are ~10-40 kB (300 prices + 50 decisions); a request is tiny
MAX_LINE_BYTES = 1 << 20
MAX_REQUEST_BYTES = 64 << 10
MAX_WHO_CHARS = 120
SOCKET_NAME = "control.sock"
KILL_LATCH_NAME = "kill.latch"


def run_dir(data_dir: Path | str) -> Path:
    """``DATA_DIR/run``: pid file, kill file/latch and the control socket."""
    return Path(data_dir) / "run"


def socket_path(data_dir: Path | str) -> Path:
    """Where the daemon listens: ``DATA_DIR/run/control.sock``."""
    return run_dir(data_dir) / SOCKET_NAME


class Command(StrEnum):
    """Every request a client may send."""

    SUBSCRIBE = "subscribe"
    STATUS = "status"
    KILL = "kill"
    PAUSE = "pause"
    RESUME = "resume"
    FLATTEN = "flatten"
    ARM = "arm"
    RELOAD_MODEL = "reload-model"


# commands the server answers itself; the others go to the daemon's command handler
SERVER_COMMANDS = frozenset({Command.SUBSCRIBE, Command.STATUS})


class ErrorKind(StrEnum):
    """Why a request or connection failed (counter labels)."""

    MALFORMED = "malformed"  # not UTF-8 / not JSON / not an object
    TOO_LONG = "too_long"
    UNKNOWN_COMMAND = "unknown_command"
    BAD_ARGS = "bad_args"
    BAD_VERSION = "bad_version"
    HANDLER_ERROR = "handler_error"
    HANDLER_TIMEOUT = "handler_timeout"
    PROVIDER_ERROR = "provider_error"
    PEER_REJECTED = "peer_rejected"
    TOO_MANY_CLIENTS = "too_many_clients"
    SLOW_CLIENT = "slow_client"  # too many unread answers: disconnected


# --- request arguments ---------------------------------------------------------------


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoArgs(_Args):
    """Commands that take no arguments."""


class ReasonArgs(_Args):
    """``kill`` / ``pause`` / ``flatten``: an optional free-text reason for the journal."""

    reason: str = Field("operator", min_length=1, max_length=200)


class ArmArgs(_Args):
    """``arm`` clears the kill latch: the daemon checks the confirmation token."""

    token: str = Field(min_length=1, max_length=200)


class ReloadModelArgs(_Args):
    """``reload-model``: optional bundle version/path; default the registry's current one."""

    bundle: str | None = Field(None, min_length=1, max_length=500)


ARGS_MODELS: dict[Command, type[_Args]] = {
    Command.SUBSCRIBE: NoArgs,
    Command.STATUS: NoArgs,
    Command.KILL: ReasonArgs,
    Command.PAUSE: ReasonArgs,
    Command.RESUME: NoArgs,
    Command.FLATTEN: ReasonArgs,
    Command.ARM: ArmArgs,
    Command.RELOAD_MODEL: ReloadModelArgs,
}

RequestId = int | str | None


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """A request line that passed validation (before the server adds time and peer)."""

    id: RequestId
    cmd: Command
    args: dict[str, Any]
    who: str


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """What the daemon's command handler receives: the command, who sent it and when.

    ``ts_ms`` is the server's wall clock at receipt; ``peer_pid``/``peer_uid`` come from
    SO_PEERCRED (None where the OS does not tell).
    """

    id: RequestId
    cmd: Command
    args: dict[str, Any]
    who: str
    ts_ms: int
    peer_pid: int | None = None
    peer_uid: int | None = None


class RequestError(Exception):
    """A request line was refused; ``str(err)`` is the one-line message for the client."""

    def __init__(self, kind: ErrorKind, message: str, request_id: RequestId = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.request_id = request_id


def _clean_who(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        return "unknown"
    printable = "".join(ch if ch.isprintable() else "?" for ch in raw.strip())
    return printable[:MAX_WHO_CHARS]


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or "args"
    more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{loc}: {first['msg']}{more}"


def parse_request(line: bytes | str) -> ParsedRequest:
    """Validate one request line or raise ``RequestError`` with a one-line message."""
    if isinstance(line, bytes):
        if len(line) > MAX_REQUEST_BYTES:
            raise RequestError(ErrorKind.TOO_LONG, f"request longer than {MAX_REQUEST_BYTES} bytes")
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            raise RequestError(ErrorKind.MALFORMED, "request is not UTF-8") from None
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as err:
        msg = getattr(err, "msg", "too deeply nested")
        raise RequestError(ErrorKind.MALFORMED, f"malformed JSON: {msg}") from None
    if not isinstance(obj, dict):
        raise RequestError(ErrorKind.MALFORMED, "request must be a JSON object")
    rid = obj.get("id")
    if not (rid is None or isinstance(rid, str | int)) or isinstance(rid, bool):
        raise RequestError(ErrorKind.MALFORMED, "'id' must be a string, an integer or null")
    version = obj.get("v", PROTOCOL_VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version > PROTOCOL_VERSION:
        raise RequestError(
            ErrorKind.BAD_VERSION,
            f"protocol version {version!r} not supported (server speaks {PROTOCOL_VERSION})",
            rid,
        )
    raw_cmd = obj.get("cmd")
    if not isinstance(raw_cmd, str):
        raise RequestError(ErrorKind.UNKNOWN_COMMAND, "missing 'cmd'", rid)
    try:
        cmd = Command(raw_cmd)
    except ValueError:
        known = ", ".join(c.value for c in Command)
        shown = raw_cmd[:40]
        raise RequestError(
            ErrorKind.UNKNOWN_COMMAND, f"unknown command {shown!r} (known: {known})", rid
        ) from None
    raw_args = obj.get("args", {})
    if raw_args is None:
        raw_args = {}
    if not isinstance(raw_args, dict):
        raise RequestError(ErrorKind.BAD_ARGS, f"bad args for {cmd}: 'args' must be an object", rid)
    try:
        args = ARGS_MODELS[cmd].model_validate(raw_args).model_dump(exclude_none=True)
    except ValidationError as err:
        raise RequestError(ErrorKind.BAD_ARGS, f"bad args for {cmd}: {_first_error(err)}", rid) from None
    return ParsedRequest(id=rid, cmd=cmd, args=args, who=_clean_who(obj.get("who")))


def request_line(
    cmd: Command | str, args: dict[str, Any] | None = None, who: str = "unknown", rid: RequestId = 1
) -> bytes:
    """Encode one request line (what clients send)."""
    msg = {"v": PROTOCOL_VERSION, "id": rid, "cmd": str(cmd), "args": args or {}, "who": who}
    return (json.dumps(msg, separators=(",", ":")) + "\n").encode()


# --- answers -------------------------------------------------------------------------


class ResultMessage(BaseModel):
    """A command's answer: ``ok``, the resulting risk state and a human-readable detail."""

    model_config = ConfigDict(extra="allow")

    type: Literal["result"] = "result"
    v: int = PROTOCOL_VERSION
    id: RequestId = None
    ok: bool
    cmd: str
    risk: dict[str, Any] | None = None
    detail: str = ""
    snapshot: dict[str, Any] | None = None  # only for ``status``


class ErrorMessage(BaseModel):
    """A refused request; the connection stays up."""

    type: Literal["error"] = "error"
    v: int = PROTOCOL_VERSION
    id: RequestId = None
    error: str


def _sanitize(value: Any) -> Any:
    """Replace non-finite floats by None so the line is strict JSON (jq, JS clients)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _sanitize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_sanitize(v) for v in value]
    return value


def _default(value: Any) -> Any:
    # enums are str subclasses already; tuples are lists; anything else prints as text
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def encode_line(message: dict[str, Any]) -> bytes:
    """One strict-JSON line (NaN/inf become null), newline terminated."""
    try:
        text = json.dumps(message, separators=(",", ":"), allow_nan=False, default=_default)
    except ValueError:
        text = json.dumps(_sanitize(message), separators=(",", ":"), default=_default)
    return (text + "\n").encode()


def error_line(message: str, request_id: RequestId = None) -> bytes:
    """Encode an error answer."""
    return encode_line(ErrorMessage(id=request_id, error=message).model_dump())


# --- snapshot schema (tolerant: every field has a default; unknown keys are ignored) ---


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DaemonInfo(_Part):
    """Who is running."""

    pid: int | None = None
    run_id: str | None = None
    mode: str | None = None  # paper | live | replay
    strategy: str | None = None
    bundle_version: str | None = None
    started_ts_ms: int | None = None
    executor: str | None = None  # paper | browser
    venue: str | None = None


class GameInfo(_Part):
    """The current game and its recent price path."""

    game_id: str | None = None
    phase: str = "unknown"  # unknown | cooldown | presale | active | rugged
    tick: int | None = None
    price: float | None = None
    peak: float | None = None
    cooldown_ms: int | None = None
    prices: list[float | None] = Field(default_factory=list)  # last <= 300 ticks
    first_tick: int = 0  # tick of prices[0]


class Marker(_Part):
    """An entry/exit on the chart."""

    tick: int
    price: float
    kind: str  # buy | sell | rug_sell | sidebet


class SidebetInfo(_Part):
    """The open sidebet."""

    start_tick: int | None = None
    end_tick: int | None = None
    stake_sol: float | None = None
    ticks_left: int | None = None


class AccountInfo(_Part):
    """Balance, the position and P&L (SOL floats for display)."""

    balance_sol: float | None = None
    qty: float | None = None
    avg_entry: float | None = None
    cost_sol: float | None = None
    value_sol: float | None = None
    unrealised_sol: float | None = None
    realised_sol: float | None = None
    equity_sol: float | None = None
    session_pnl_sol: float | None = None
    entry_tick: int | None = None
    sidebet: SidebetInfo | None = None


class ModelInfo(_Part):
    """The models' latest outputs."""

    action_names: list[str] = Field(default_factory=list)
    action_probs: list[float | None] | None = None
    p_rug: float | None = None
    non_finite: int = 0


class RiskFlags(_Part):
    """Why the state is what it is."""

    operator_paused: bool = False
    feed_stale: bool = False
    exec_errors: int = 0


class LimitUsage(_Part):
    """One limit and how much of it is used."""

    name: str
    used: float | None = None
    limit: float | None = None
    unit: str = ""


class RiskInfo(_Part):
    """Trading state, kill latch and limit usage."""

    state: str = "UNKNOWN"  # ACTIVE | REDUCING | HALTED | KILLED (upper-cased here)
    kill_latched: bool = False
    flags: RiskFlags = Field(default_factory=RiskFlags)
    limits: list[LimitUsage] = Field(default_factory=list)

    @field_validator("state", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        # risk.states.TradingState values are lower case; the wire documents upper case
        return value.upper() if isinstance(value, str) else "UNKNOWN"


class DecisionInfo(_Part):
    """One decision of the core with its risk verdict."""

    ts_ms: int | None = None
    game_id: str | None = None
    tick: int | None = None
    intent: str = ""
    verdict: str = "none"  # order | refused | none
    reason: str = ""
    order_id: str | None = None


class FeedInfo(_Part):
    """Feed health."""

    url: str | None = None
    connected: bool = False
    stale: bool = False
    last_tick_age_ms: int | None = None
    reconnects: int = 0
    rejected: int = 0


class ExecutionInfo(_Part):
    """Execution health."""

    executor: str | None = None
    pending_orders: int = 0
    errors: int = 0
    last_error: str | None = None


class Snapshot(_Part):
    """Everything a dashboard shows, streamed after ``subscribe``."""

    type: Literal["snapshot"] = "snapshot"
    v: int = PROTOCOL_VERSION
    seq: int = 0
    ts_ms: int | None = None
    daemon: DaemonInfo = Field(default_factory=DaemonInfo)
    game: GameInfo = Field(default_factory=GameInfo)
    markers: list[Marker] = Field(default_factory=list)
    account: AccountInfo = Field(default_factory=AccountInfo)
    model: ModelInfo = Field(default_factory=ModelInfo)
    risk: RiskInfo = Field(default_factory=RiskInfo)
    decisions: list[DecisionInfo] = Field(default_factory=list)
    feed: FeedInfo = Field(default_factory=FeedInfo)
    execution: ExecutionInfo = Field(default_factory=ExecutionInfo)


_SECTIONS: dict[str, Any] = {
    name: field.annotation
    for name, field in Snapshot.model_fields.items()
    if name not in {"type", "v", "seq", "ts_ms"}
}


def parse_snapshot(data: Any) -> tuple[Snapshot, list[str]]:
    """Parse a snapshot leniently: a bad section falls back to its defaults.

    Returns the snapshot and one message per section that was dropped, so a client can
    count and log them instead of failing the whole frame.
    """
    if not isinstance(data, dict):
        return Snapshot(), ["snapshot is not an object"]
    try:
        return Snapshot.model_validate(data), []
    except ValidationError:
        pass
    problems: list[str] = []
    clean: dict[str, Any] = {}
    for key in ("seq", "ts_ms"):
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            clean[key] = value
    for name in _SECTIONS:
        if name not in data or data[name] is None:
            continue
        try:
            Snapshot.model_validate({name: data[name]})
        except ValidationError as err:
            problems.append(f"{name}: {_first_error(err)}")
            if name in ("markers", "decisions") and isinstance(data[name], list):
                clean[name] = _good_items(name, data[name])
            continue
        clean[name] = data[name]
    return Snapshot.model_validate(clean), problems


def _good_items(name: str, items: list[Any]) -> list[Any]:
    good = []
    for item in items:
        try:
            Snapshot.model_validate({name: [item]})
        except ValidationError:
            continue
        good.append(item)
    return good


def example_snapshot() -> dict[str, Any]:
    """A realistic, fixed snapshot (docs, the screenshot script and tests use it)."""
    prices = [1.0]
    # a deterministic, game-like path: drift, a big move, a dip, a recovery
    steps = [0.012, -0.008, 0.02, 0.004, -0.015, 0.018, 0.009, 0.2, -0.01, 0.006,
             -0.022, 0.011, -0.17, 0.014, 0.017, -0.006, 0.021, 0.003, -0.012, 0.016]
    for i in range(120):
        prices.append(round(prices[-1] * (1 + steps[i % len(steps)]), 6))
    return {
        "type": "snapshot",
        "v": PROTOCOL_VERSION,
        "seq": 4211,
        "ts_ms": 1_767_225_600_000,
        "daemon": {
            "pid": 4242,
            "run_id": "20260101-0930-7f3a",
            "mode": "paper",
            "strategy": "presale_target",
            "bundle_version": "bundle-2026-01-01",
            "started_ts_ms": 1_767_223_800_000,
            "executor": "paper",
            "venue": "sim",
        },
        "game": {
            "game_id": "20260101-5bd2e1c09a7f4e21",
            "phase": "active",
            "tick": 120,
            "price": prices[-1],
            "peak": max(prices),
            "cooldown_ms": 0,
            "prices": prices,
            "first_tick": 0,
        },
        "markers": [
            {"tick": 0, "price": 1.0, "kind": "buy"},
            {"tick": 12, "price": prices[12], "kind": "sidebet"},
            {"tick": 40, "price": prices[40], "kind": "sell"},
            {"tick": 95, "price": prices[95], "kind": "buy"},
            {"tick": 100, "price": prices[100], "kind": "sidebet"},
        ],
        "account": {
            "balance_sol": 9.981,
            "qty": 0.009523,
            "avg_entry": prices[95],
            "cost_sol": 0.01,
            "value_sol": round(0.009523 * prices[-1], 6),
            "unrealised_sol": round(0.009523 * prices[-1] - 0.01, 6),
            "realised_sol": 0.0042,
            "equity_sol": round(9.981 + 0.009523 * prices[-1], 6),
            "session_pnl_sol": 0.0061,
            "entry_tick": 95,
            "sidebet": {"start_tick": 100, "end_tick": 140, "stake_sol": 0.001, "ticks_left": 20},
        },
        "model": {
            "action_names": ["wait", "buy_0.001", "buy_0.01", "sell_25", "sell_100", "sidebet"],
            "action_probs": [0.61, 0.04, 0.02, 0.09, 0.17, 0.07],
            "p_rug": 0.183,
            "non_finite": 0,
        },
        "risk": {
            "state": "ACTIVE",
            "kill_latched": False,
            "flags": {"operator_paused": False, "feed_stale": False, "exec_errors": 0},
            "limits": [
                {"name": "position", "used": 0.0102, "limit": 0.1, "unit": "SOL"},
                {"name": "exposure", "used": 0.0112, "limit": 0.2, "unit": "SOL"},
                {"name": "daily loss", "used": 0.0, "limit": 0.5, "unit": "SOL"},
                {"name": "drawdown", "used": 0.0035, "limit": 0.3, "unit": "SOL"},
                {"name": "orders/min", "used": 4, "limit": 30, "unit": ""},
            ],
        },
        "decisions": [
            {"ts_ms": 1_767_225_570_000, "game_id": "20260101-5bd2e1c09a7f4e21", "tick": 0,
             "intent": "buy 0.010", "verdict": "order", "reason": "", "order_id": "o-101"},
            {"ts_ms": 1_767_225_573_000, "game_id": "20260101-5bd2e1c09a7f4e21", "tick": 12,
             "intent": "sidebet 0.001", "verdict": "order", "reason": "", "order_id": "o-102"},
            {"ts_ms": 1_767_225_580_000, "game_id": "20260101-5bd2e1c09a7f4e21", "tick": 40,
             "intent": "sell 100%", "verdict": "order", "reason": "", "order_id": "o-103"},
            {"ts_ms": 1_767_225_590_000, "game_id": "20260101-5bd2e1c09a7f4e21", "tick": 80,
             "intent": "buy 0.050", "verdict": "refused", "reason": "max_bet", "order_id": None},
            {"ts_ms": 1_767_225_594_000, "game_id": "20260101-5bd2e1c09a7f4e21", "tick": 95,
             "intent": "buy 0.010", "verdict": "order", "reason": "", "order_id": "o-104"},
            {"ts_ms": 1_767_225_595_000, "game_id": "20260101-5bd2e1c09a7f4e21", "tick": 100,
             "intent": "sidebet 0.001", "verdict": "order", "reason": "", "order_id": "o-105"},
            {"ts_ms": 1_767_225_600_000, "game_id": "20260101-5bd2e1c09a7f4e21", "tick": 118,
             "intent": "sidebet 0.001", "verdict": "refused", "reason": "sidebet_open",
             "order_id": None},
        ],
        "feed": {
            "url": "http://127.0.0.1:8765",
            "connected": True,
            "stale": False,
            "last_tick_age_ms": 120,
            "reconnects": 1,
            "rejected": 0,
        },
        "execution": {"executor": "paper", "pending_orders": 0, "errors": 0, "last_error": None},
    }
