"""The TUI's view of its connection to the daemon (a pure value)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LinkStatus(StrEnum):
    """Where the subscription stands."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    OFFLINE = "offline"  # the daemon is not reachable; retrying


@dataclass(frozen=True, slots=True)
class LinkState:
    """Connection status as shown in the header and the banner."""

    status: LinkStatus = LinkStatus.CONNECTING
    reason: str = ""
    retry_in_s: int | None = None
    restarts: int = 0
    run_id: str | None = None
