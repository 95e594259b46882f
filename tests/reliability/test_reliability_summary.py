"""The suite's verdict can fail: a violated invariant, a failed condition or a probe that
raised makes ``all_passed`` false and shows in ``summary`` (synthetic probes; the real
ones run in the slow tests)."""

from __future__ import annotations

from pathlib import Path

from bench._reliability.report import must_be_zero, must_hold, summarize, violations
from bench.reliability import run_probes


def _probe(orders_on_bad_input: int, alive: bool, kills: list[float]) -> dict:
    return {"runs": 2, "faults_injected": 100,
            "samples": {"kill_latency_ms": kills, "recovery_s": {"reconnect": [0.5, 1.5]}},
            "checks": {"orders_on_bad_input": must_be_zero(orders_on_bad_input),
                       "alive": must_hold(alive, "alive")}}


def test_violations_count_every_nonzero_must_be_zero_and_every_failed_condition() -> None:
    assert violations(_probe(0, True, [])["checks"]) == 0
    assert violations(_probe(3, True, [])["checks"]) == 3
    assert violations(_probe(3, False, [])["checks"]) == 4


def test_summary_adds_runs_faults_violations_and_pools_latencies() -> None:
    summary = summarize({"a": _probe(0, True, [1.0, 2.0, 3.0]),
                         "b": _probe(1, True, [100.0]),
                         "c": {"error": "boom"}})
    assert summary["runs"] == 4 and summary["faults_injected"]["total"] == 200
    assert summary["invariant_violations"] == 1
    assert summary["probes_not_run"] == ["c"]
    assert summary["kill_latency_ms"] == {"n": 4, "p50": 2.5, "p99": 100.0, "max": 100.0}
    assert summary["recovery_s"]["a.reconnect"]["n"] == 2


def test_a_probe_that_raises_or_fails_a_check_fails_the_suite() -> None:
    def broken(_root: Path) -> dict:
        raise RuntimeError("the daemon never came up")

    out = run_probes({"ok": lambda _root: _probe(0, True, [5.0]), "broken": broken})
    assert out["verdicts"]["broken.ran"] == "FAIL" and not out["all_passed"]
    assert "RuntimeError" in out["broken"]["error"]
    assert run_probes({"ok": lambda _root: _probe(0, True, [5.0])})["all_passed"]
    bad = run_probes({"bad": lambda _root: _probe(2, True, [5.0])})
    assert not bad["all_passed"] and bad["summary"]["invariant_violations"] == 2
    assert bad["verdicts"]["bad.orders_on_bad_input"] == "FAIL"
