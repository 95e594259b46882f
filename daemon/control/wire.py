"""The control plane's wire basics — socket path, command names, the request line —
without pydantic. ``rugsd kill`` builds its request from this module alone: the kill has a
one-tick budget and the message models of ``protocol`` (pydantic) are most of a cold
start. ``protocol`` re-exports every name here.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

PROTOCOL_VERSION = 1

RequestId = int | str | None

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
    IDLE_TIMEOUT = "idle_timeout"  # neither subscribed nor asked for too long: dropped


def request_line(
    cmd: Command | str, args: dict[str, Any] | None = None, who: str = "unknown", rid: RequestId = 1
) -> bytes:
    """Encode one request line (what clients send)."""
    msg = {"v": PROTOCOL_VERSION, "id": rid, "cmd": str(cmd), "args": args or {}, "who": who}
    return (json.dumps(msg, separators=(",", ":")) + "\n").encode()
