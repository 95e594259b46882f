"""``ScriptedDaemon``: a fixed scene served by a ``ControlServer``, with the daemon's REAL
command handler behind it.

The control-plane, CLI and TUI tests need a daemon whose snapshot they can script (a
chart, a decision log, a restart with another run id) and whose command answers are the
real ones. So this kit holds a real ``Daemon`` — a paper daemon on the ``never`` strategy,
its journal and run dir in a private temp dir, no feed and no timer — and:

- every command goes to ``Daemon.command`` (``runtime/operator.handle_command``): the
  answers, the journal rows, the kill latch and ``arm``'s confirmation code are the real
  ones (an earlier fake re-implemented them and drifted: ``reload-model`` answered
  "model reloaded" while the daemon only schedules a reload);
- the served snapshot is the scripted scene (``example_snapshot()`` by default; tests
  mutate ``snapshot``) with its ``risk`` section taken from the real daemon's snapshot.

One real feed event (a cooldown update) makes the core's feed fresh, so it starts
ACTIVE, as a daemon with a live feed would; with no timer it never goes stale.
"""

from __future__ import annotations

import copy
import tempfile
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from rugsd.daemon.config import Settings
from rugsd.daemon.control.protocol import CommandRequest, example_snapshot
from rugsd.daemon.control.server import ControlServer
from rugsd.daemon.events import GameUpdate
from rugsd.daemon.runtime.daemon import Daemon
from rugsd.daemon.runtime.killwatch import poll_kill_switch
from rugsd.daemon.runtime.operator import journal_refusal, make_snapshot
from rugsd.daemon.runtime.startup import now_ms
from rugsd.risk import killswitch

SETTINGS = {"strategy": {"name": "never"}, "control": {"metrics_port": 0}}


def real_daemon(data_dir: Path, settings: Settings | None = None) -> Daemon:
    """A real paper ``Daemon`` restored from ``data_dir`` (journal open, core built) whose
    feed has just delivered one cooldown update: what a running daemon is between games,
    minus the sockets and the timer."""
    daemon = Daemon(settings or Settings.model_validate(SETTINGS), data_dir)
    daemon._restore()
    daemon.step(GameUpdate(now_ms(), "20260101-scripted", active=False, rugged=False,
                            cooldown_ms=10_000))
    return daemon


def _release(daemon: Daemon, tmp: tempfile.TemporaryDirectory | None) -> None:
    with suppress(Exception):
        daemon.journal.close()
    daemon.pid_file.unlink(missing_ok=True)
    if tmp is not None:
        tmp.cleanup()


class ScriptedDaemon:
    """A scripted snapshot provider + the real command handler (see the module doc)."""

    def __init__(self, snapshot: dict[str, Any] | None = None,
                 data_dir: Path | None = None) -> None:
        self.snapshot: dict[str, Any] = copy.deepcopy(snapshot or example_snapshot())
        tmp = None
        if data_dir is None:
            tmp = tempfile.TemporaryDirectory(prefix="rugsd-scripted-")
            data_dir = Path(tmp.name) / "data"
        self.daemon = real_daemon(data_dir)
        self.commands: list[CommandRequest] = []
        self.provider_calls = 0
        self._finalizer = weakref.finalize(self, _release, self.daemon, tmp)

    @property
    def risk(self) -> dict[str, Any]:
        """The real daemon's risk section, as its snapshot shows it now."""
        return make_snapshot(self.daemon)["risk"]

    @property
    def arm_token(self) -> str:
        """The confirmation code of the kill latch in force (what ``rugsd arm`` asks for)."""
        latch = killswitch.current_kill(self.daemon.paths.run_dir)
        if latch is None:
            raise AssertionError("no kill latch: nothing to arm")
        return latch.token

    def provide(self) -> dict[str, Any]:
        """The snapshot provider: the scene, with the real risk section."""
        self.provider_calls += 1
        return {**self.snapshot, "risk": self.risk}

    def handle(self, request: CommandRequest) -> dict[str, Any]:
        """The command handler: recorded, then answered by the real daemon."""
        self.commands.append(request)
        return self.daemon.command(request)

    def kill_by_file(self, text: str = "kill file") -> None:
        """Pull the kill switch from outside (``run/KILL``, as ``rugsd kill`` does without
        a socket) and let the daemon's own poll notice it."""
        killswitch.write_kill_file(self.daemon.paths.run_dir, text)
        poll_kill_switch(self.daemon, now_ms())
        assert self.daemon.core.risk.killed, "the kill file was not noticed"

    def close(self) -> None:
        """Close the journal and remove the temp dir (also done when garbage-collected)."""
        self._finalizer()

    @asynccontextmanager
    async def serve(self, sock_path: Path | str, interval_s: float = 0.05,
                    **kwargs: Any) -> AsyncIterator[ControlServer]:
        """Run a real ``ControlServer`` for this daemon, wired as ``Daemon.run`` wires it
        (refused requests journaled); stopped on exit."""
        kwargs.setdefault("on_refused",
                          lambda cmd, who, why: journal_refusal(self.daemon, cmd, who, why))
        server = ControlServer(sock_path, self.provide, self.handle, interval_s, **kwargs)
        await server.start()
        try:
            yield server
        finally:
            await server.stop()
