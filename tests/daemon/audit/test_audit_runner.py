"""``Auditor``: audits run on a worker thread and come back to the loop as verdict steps,
counted in the metrics; a failing audit is an ``unverifiable`` verdict, never lost."""

from __future__ import annotations

import asyncio
import threading

import pytest
from audit_helpers import room_updates

from rugsd.daemon.audit import check
from rugsd.daemon.audit.model import AuditResult, AuditVerdict
from rugsd.daemon.audit.observe import GameObserver
from rugsd.daemon.audit.runner import Auditor
from rugsd.daemon.control.metrics import RugsdMetrics


def _requests(n: int, tamper: str | None = None) -> list:
    observer = GameObserver()
    out = []
    for u in room_updates(n, tamper=tamper):
        out.extend(observer.observe(u) or ())
    return out


async def _run(auditor_requests: list, metrics: RugsdMetrics) -> tuple[list, set[int]]:
    verdicts: list[AuditVerdict] = []
    threads: set[int] = set()
    done = asyncio.Event()

    def step(verdict: AuditVerdict) -> None:
        threads.add(threading.get_ident())
        verdicts.append(verdict)
        if len(verdicts) == len(auditor_requests):
            done.set()

    auditor = Auditor(step, lambda: 42, metrics)
    auditor.submit(auditor_requests)
    assert auditor.pending == len(auditor_requests)
    await asyncio.wait_for(done.wait(), 20)
    assert auditor.pending == 0
    auditor.close()
    return verdicts, threads


async def test_verdicts_come_back_on_the_loop_thread_and_are_counted() -> None:
    metrics = RugsdMetrics()
    requests = _requests(2) + _requests(1, "price")
    verdicts, threads = await _run(requests, metrics)
    assert threads == {threading.get_ident()}  # stepped on the loop thread
    assert [v.audit.result for v in verdicts] == [AuditResult.VERIFIED, AuditResult.VERIFIED,
                                                  AuditResult.PATH_MISMATCH]
    assert all(v.ts_ms == 42 for v in verdicts)
    text = metrics.render().decode()
    assert 'rugsd_audits_total{result="verified"} 2.0' in text
    assert 'rugsd_audits_total{result="path_mismatch"} 1.0' in text
    assert "rugsd_audit_pending 0.0" in text


async def test_a_failing_audit_is_an_unverifiable_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(request):
        raise RuntimeError("boom")

    monkeypatch.setattr(check, "audit_game", broken)
    metrics = RugsdMetrics()
    verdicts, _ = await _run(_requests(1), metrics)
    (v,) = verdicts
    assert v.audit.result is AuditResult.UNVERIFIABLE
    assert "audit error: RuntimeError: boom" in v.audit.detail
    assert v.audit.observed.claims  # the evidence is still collected
    assert "rugsd_audit_errors_total 1.0" in metrics.render().decode()


async def test_a_closed_auditor_takes_nothing() -> None:
    stepped: list = []
    auditor = Auditor(stepped.append, lambda: 0)
    auditor.close()
    auditor.submit(_requests(1))
    await asyncio.sleep(0.1)
    assert stepped == [] and auditor.pending == 0
