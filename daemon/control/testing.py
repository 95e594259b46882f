"""``ScriptedDaemon``: a deterministic stand-in for the daemon behind a ``ControlServer``.

Used by the control-plane and TUI tests and by ``tui/screenshot.py``; the lead's
end-to-end tests can reuse it. It serves a fixed snapshot (``example_snapshot()`` by
default), records every command with who/when, and applies the documented state
effects (kill latches, pause halts, flatten reduces, arm needs the token).
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from rugsd.daemon.control.protocol import Command, CommandRequest, example_snapshot
from rugsd.daemon.control.server import ControlServer

ARM_TOKEN = "arm-me"


class ScriptedDaemon:
    """Snapshot provider + command handler with inspectable state."""

    def __init__(self, snapshot: dict[str, Any] | None = None, arm_token: str = ARM_TOKEN) -> None:
        self.snapshot: dict[str, Any] = copy.deepcopy(snapshot or example_snapshot())
        self.arm_token = arm_token
        self.commands: list[CommandRequest] = []
        self.provider_calls = 0

    @property
    def risk(self) -> dict[str, Any]:
        """The live risk section of the served snapshot."""
        return self.snapshot["risk"]

    def provide(self) -> dict[str, Any]:
        """The snapshot provider (sync, cheap)."""
        self.provider_calls += 1
        return self.snapshot

    async def handle(self, request: CommandRequest) -> dict[str, Any]:
        """The command handler: record, apply, answer with the resulting risk state."""
        self.commands.append(request)
        ok, detail = self._apply(request)
        return {"ok": ok, "detail": detail, "risk": copy.deepcopy(self.risk)}

    def _apply(self, request: CommandRequest) -> tuple[bool, str]:
        risk, flags = self.risk, self.risk.setdefault("flags", {})
        killed = bool(risk.get("kill_latched"))
        match request.cmd:
            case Command.KILL:
                risk.update(state="KILLED", kill_latched=True)
                return True, f"killed by {request.who}"
            case Command.PAUSE if not killed:
                flags["operator_paused"] = True
                risk["state"] = "HALTED"
                return True, "paused"
            case Command.RESUME if not killed:
                flags["operator_paused"] = False
                risk["state"] = "ACTIVE"
                return True, "resumed"
            case Command.FLATTEN if not killed:
                flags["operator_paused"] = False
                risk["state"] = "REDUCING"
                self.snapshot["account"].update(qty=0.0, value_sol=0.0, unrealised_sol=0.0)
                return True, "flattening"
            case Command.ARM:
                if request.args.get("token") != self.arm_token:
                    return False, "bad confirmation token"
                risk.update(state="ACTIVE", kill_latched=False)
                return True, "armed"
            case Command.RELOAD_MODEL:
                return True, "model reloaded"
        return False, f"{request.cmd} refused: kill latch set (use rugsd arm)"

    def set_killed(self, killed: bool = True) -> None:
        """Flip the served state (as if the kill switch was pulled elsewhere)."""
        self.risk.update(state="KILLED" if killed else "ACTIVE", kill_latched=killed)

    @asynccontextmanager
    async def serve(self, sock_path: Path | str, interval_s: float = 0.05,
                    **kwargs: Any) -> AsyncIterator[ControlServer]:
        """Run a real ``ControlServer`` for this daemon; stopped on exit."""
        server = ControlServer(sock_path, self.provide, self.handle, interval_s, **kwargs)
        await server.start()
        try:
            yield server
        finally:
            await server.stop()
