"""``Auditor``: the daemon shell runs audits in a worker thread, never on the event loop.

The decision core hands out ``AuditRequest``s (``StepOutput.audits``) when a game's seed
is revealed — at the start of the next game's cooldown, in the settlement part where the
core makes no decision. ``submit`` queues them on a single worker thread; when one is
done the result comes back to the loop thread (``call_soon_threadsafe``) and is stepped
into the core as an ``AuditVerdict`` by the shell's ``step`` callback, so the risk change
is journaled and deterministic like any other input. A slow audit therefore delays
nothing but its own verdict (``tests/daemon/runtime/test_runtime_audit_slow.py``), and the
pure-Python recomputation (~2 ms for a median game, ~50 ms for the longest) holds the GIL
only while the core has nothing to decide (``bench/audit.py`` measures both).

A failing audit (a bug, not a venue fault) becomes an ``unverifiable`` verdict whose
detail says so, logged and counted (``rugsd_audit_errors_total``) — never silently lost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import structlog

from rugsd.daemon.audit import check
from rugsd.daemon.audit.model import (
    AuditRequest,
    AuditResult,
    AuditVerdict,
    GameAudit,
    Observed,
)
from rugsd.daemon.audit.observe import collect

if TYPE_CHECKING:
    from rugsd.daemon.control.metrics import RugsdMetrics

log = structlog.get_logger(__name__)


class Auditor:
    """Audits games on one worker thread and steps the verdicts back on the loop."""

    def __init__(
        self,
        step: Callable[[AuditVerdict], Any],
        now_ms: Callable[[], int],
        metrics: RugsdMetrics | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._step = step
        self._now_ms = now_ms
        self._metrics = metrics
        self._loop = loop or asyncio.get_running_loop()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rugsd-audit")
        self._closed = False
        self.pending = 0
        self.done = 0
        self.errors = 0

    def submit(self, requests: list[AuditRequest]) -> None:
        """Queue ``requests`` (called on the loop thread, right after a core step)."""
        if self._closed:
            return
        for request in requests:
            self.pending += 1
            self._set_pending()
            future = self._pool.submit(_run, request, time.perf_counter())
            future.add_done_callback(self._from_worker)

    def close(self) -> None:
        """Stop taking audits; drop the queued ones (a stopping daemon trades no more)."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- completion (worker thread → loop thread) ------------------------------------------

    def _from_worker(self, future: Future) -> None:
        if future.cancelled() or self._closed:
            return
        try:
            self._loop.call_soon_threadsafe(self._finish, future)
        except RuntimeError:  # the loop is closed: the daemon is gone
            pass

    def _finish(self, future: Future) -> None:
        if self._closed:
            return
        self.pending -= 1
        self.done += 1
        audit, queued_s, error = future.result()
        if error:
            self.errors += 1
            log.error("venue audit failed (counted as unverifiable)", game_id=audit.game_id,
                      error=error)
        elif audit.is_mismatch:
            log.error("VENUE INTEGRITY: a game broke its provably-fair commitment",
                      game_id=audit.game_id, result=audit.result.value, detail=audit.detail)
        else:
            log.info("game audited", game_id=audit.game_id, result=audit.result.value,
                     detail=audit.detail, audit_ms=round(audit.seconds * 1000, 2))
        m = self._metrics
        if m is not None:
            m.observe_audit(audit.result.value, queued_s, bool(error))
        self._set_pending()
        self._step(AuditVerdict(self._now_ms(), audit))

    def _set_pending(self) -> None:
        if self._metrics is not None:
            self._metrics.audit_pending.set(self.pending)


def _run(request: AuditRequest, queued_at: float) -> tuple[GameAudit, float, str]:
    """Worker thread: the audit, the time since it was queued, and an error (or "")."""
    try:
        audit = check.audit_game(request)
        error = ""
    except Exception as err:  # noqa: BLE001 - a bug in the audit must not kill the worker
        error = f"{type(err).__name__}: {err}"[:300]
        try:
            observed = collect(request.game_id, request.updates, request.revealed)
        except Exception:  # noqa: BLE001
            observed = Observed(request.game_id)
        audit = GameAudit(request.game_id, AuditResult.UNVERIFIABLE,
                          f"audit error: {error}", observed)
    return audit, time.perf_counter() - queued_at, error
