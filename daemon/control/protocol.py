"""The control-plane wire protocol: line-delimited JSON over a Unix socket (version 1).

Pure module (no I/O): message models and request parsing; the snapshot schema and a
tolerant parser (``snapshot_schema``) and ``example_snapshot`` are re-exported here, so
clients import one module. ``docs/control-protocol.md`` is the prose version.

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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rugsd.daemon.control.example import example_snapshot
from rugsd.daemon.control.snapshot_schema import (
    PROTOCOL_VERSION,
    AccountInfo,
    AuditBrief,
    AuditInfo,
    DaemonInfo,
    DecisionInfo,
    ExecutionInfo,
    FeedInfo,
    GameInfo,
    LimitUsage,
    Marker,
    ModelInfo,
    RiskFlags,
    RiskInfo,
    SidebetInfo,
    Snapshot,
    _first_error,
    parse_snapshot,
)
from rugsd.daemon.control.wire import (  # noqa: F401 - re-exported: one module for clients
    KILL_LATCH_NAME,
    MAX_LINE_BYTES,
    MAX_REQUEST_BYTES,
    MAX_WHO_CHARS,
    SERVER_COMMANDS,
    SOCKET_NAME,
    Command,
    ErrorKind,
    RequestId,
    request_line,
    run_dir,
    socket_path,
)

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
    """A request line was refused; ``str(err)`` is the one-line message for the client.

    ``cmd`` and ``who`` are set when the line named a known command (e.g. an ``arm``
    without a token), so that the refusal can be journaled like any other command.
    """

    def __init__(self, kind: ErrorKind, message: str, request_id: RequestId = None,
                 cmd: Command | None = None, who: str = "unknown") -> None:
        super().__init__(message)
        self.kind = kind
        self.request_id = request_id
        self.cmd = cmd
        self.who = who


def _clean_who(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        return "unknown"
    printable = "".join(ch if ch.isprintable() else "?" for ch in raw.strip())
    return printable[:MAX_WHO_CHARS]


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
    who = _clean_who(obj.get("who"))
    raw_args = obj.get("args", {})
    if raw_args is None:
        raw_args = {}
    if not isinstance(raw_args, dict):
        raise RequestError(ErrorKind.BAD_ARGS, f"bad args for {cmd}: 'args' must be an object",
                           rid, cmd, who)
    try:
        args = ARGS_MODELS[cmd].model_validate(raw_args).model_dump(exclude_none=True)
    except ValidationError as err:
        raise RequestError(ErrorKind.BAD_ARGS, f"bad args for {cmd}: {_first_error(err)}",
                           rid, cmd, who) from None
    return ParsedRequest(id=rid, cmd=cmd, args=args, who=who)


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


__all__ = [
    "MAX_LINE_BYTES", "MAX_REQUEST_BYTES", "PROTOCOL_VERSION", "AccountInfo", "ArmArgs",
    "AuditBrief", "AuditInfo",
    "Command", "CommandRequest", "DaemonInfo", "DecisionInfo", "ErrorKind", "ErrorMessage",
    "ExecutionInfo", "FeedInfo", "GameInfo", "LimitUsage", "Marker", "ModelInfo",
    "ParsedRequest", "ReasonArgs", "ReloadModelArgs", "RequestError", "ResultMessage",
    "RiskFlags", "RiskInfo", "SidebetInfo", "Snapshot", "encode_line", "error_line",
    "example_snapshot", "parse_request", "parse_snapshot", "request_line", "run_dir",
    "socket_path",
]
