"""The ops examples in docs/ops work: the systemd units parse (sections, keys, values),
their ``rugsd`` command lines parse with the real CLI, ``systemd-analyze verify`` accepts
them without a warning (when the host has it), and every metric and label the Grafana
dashboard names exists in the real metrics registry."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client.metrics import MetricWrapperBase

from rugsd.daemon.cli import build_parser
from rugsd.daemon.control.metrics import RugsdMetrics

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "docs" / "ops"
INSTALL_DIR = "/opt/rugsd"  # where the examples expect the checkout
UNITS = ("rugsd.service", "rugsd-retrain.service", "rugsd-retrain.timer")


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file: {section: {key: [values]}} (keys may repeat); comments,
    blank lines and backslash continuations as systemd reads them. Raises on anything
    outside a section or a line that is not ``key=value``."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    lines = iter(text.splitlines())
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        while line.endswith("\\"):
            line = line[:-1].rstrip() + " " + next(lines).strip()
        if line.startswith("["):
            assert line.endswith("]"), f"line {number}: {raw!r}"
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"line {number} outside a section: {raw!r}"
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key.strip()), \
            f"line {number} is not key=value: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def _unit(name: str) -> dict[str, dict[str, list[str]]]:
    return parse_unit((OPS / name).read_text())


def _one(unit: dict, section: str, key: str) -> str:
    values = unit[section].get(key, [])
    assert len(values) == 1, f"[{section}] {key}: {values}"
    return values[0]


def _rugsd_args(exec_start: str) -> list[str]:
    argv = shlex.split(exec_start)
    assert argv[0] == f"{INSTALL_DIR}/.venv/bin/rugsd", argv
    return argv[1:]


def test_ops_parse_unit_rejects_what_systemd_would():
    assert parse_unit("[A]\nB=1 \\\n  2\nB=3\n# c\n") == {"A": {"B": ["1 2", "3"]}}
    for bad in ("B=1\n", "[A]\njust words\n", "[A\nB=1\n"):
        with pytest.raises(AssertionError):
            parse_unit(bad)


def test_ops_daemon_unit_runs_paper_restarts_and_stops_by_sigterm():
    unit = _unit("rugsd.service")
    assert set(unit) == {"Unit", "Service", "Install"}
    svc = unit["Service"]
    args = _rugsd_args(_one(unit, "Service", "ExecStart"))
    parsed = build_parser(args).parse_args(args)  # the real CLI accepts it
    assert parsed.command == "run" and parsed.paper and not parsed.live
    assert parsed.data_dir == "/var/lib/rugsd"
    assert _one(unit, "Service", "Type") == "simple"
    assert _one(unit, "Service", "KillSignal") == "SIGTERM"
    assert _one(unit, "Service", "Restart") == "on-failure"
    assert _one(unit, "Service", "RestartPreventExitStatus") == "2"  # refused to start
    assert int(_one(unit, "Service", "TimeoutStopSec")) >= 10
    assert _one(unit, "Service", "StateDirectory") == "rugsd"
    env = dict(v.split("=", 1) for v in svc["Environment"])
    assert env["RUGSD_CONTROL__METRICS_PORT"] == "9464"
    assert _one(unit, "Install", "WantedBy") == "multi-user.target"
    text = (OPS / "rugsd.service").read_text()
    for usage in ("rugsd kill --data-dir /var/lib/rugsd", "/var/lib/rugsd/run/KILL",
                  "--signal=SIGUSR1", "rugsd arm --data-dir /var/lib/rugsd"):
        assert usage in text, usage


def test_ops_retrain_service_and_nightly_timer():
    svc = _unit("rugsd-retrain.service")
    args = _rugsd_args(_one(svc, "Service", "ExecStart"))
    parsed = build_parser(args).parse_args(args)
    assert parsed.command == "retrain" and str(parsed.data_dir) == "/var/lib/rugsd"
    assert parsed.max_minutes == 120
    assert _one(svc, "Service", "Type") == "oneshot"
    assert "Install" not in svc, "started by the timer only"
    timer = _unit("rugsd-retrain.timer")
    assert _one(timer, "Timer", "Unit") == "rugsd-retrain.service"
    assert _one(timer, "Timer", "OnCalendar") == "*-*-* 03:30:00"
    assert _one(timer, "Timer", "Persistent") == "true"
    assert _one(timer, "Install", "WantedBy") == "timers.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed on this host")
def test_ops_units_pass_systemd_analyze_verify(tmp_path: Path):
    rugsd = ROOT / ".venv" / "bin" / "rugsd"
    if not rugsd.exists():
        pytest.skip(f"no {rugsd} to stand in for {INSTALL_DIR}/.venv/bin/rugsd")
    for name in UNITS:  # the checkout stands in for /opt/rugsd so ExecStart exists
        (tmp_path / name).write_text((OPS / name).read_text().replace(INSTALL_DIR, str(ROOT)))
    done = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / n) for n in UNITS)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    # an unknown key or a bad value is only a warning: there must be none
    assert done.stderr.strip() == "", done.stderr
    bad = tmp_path / "bad.service"
    bad.write_text((tmp_path / "rugsd.service").read_text().replace("Restart=", "Restrat="))
    done = subprocess.run(["systemd-analyze", "verify", str(bad)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert "Unknown key 'Restrat'" in done.stderr, "the check would catch a typo"


def _registry() -> dict[str, tuple[str, set[str]]]:
    """Sample name -> (family, labels) of every metric the daemon's registry holds."""
    metrics = RugsdMetrics()
    collectors = [v for v in vars(metrics).values() if isinstance(v, MetricWrapperBase)]
    collectors += [v for d in vars(metrics).values() if isinstance(d, dict) for v in d.values()
                   if isinstance(v, MetricWrapperBase)]
    families = {f.name for f in metrics.registry.collect()}
    assert {c._name for c in collectors} == families, "every family found"
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"),
                "gauge": ("",), "stateset": ("",)}
    out = {}
    for c in collectors:
        labels = set(c._labelnames)
        if c._type == "stateset":
            labels.add(c._name)
        for suffix in suffixes[c._type]:
            out[c._name + suffix] = (c._name, labels | ({"le"} if suffix == "_bucket" else set()))
    return out


def _exprs(dashboard: dict) -> list[str]:
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dashboard["templating"]["list"]]
    return exprs


def dashboard_problems(dashboard: dict, registry: dict) -> list[str]:
    """Every expression of the dashboard against the registry: unknown metrics, labels."""
    problems = []
    for expr in _exprs(dashboard):
        names = set(re.findall(r"\brugsd_[a-z0-9_]+\b", expr))
        if not names:
            problems.append(f"no rugsd metric in {expr!r}")
        missing = names - set(registry)
        if missing:
            problems.append(f"{expr!r} names metrics the daemon does not export: {missing}")
        labels = set().union(*(registry[n][1] for n in names - missing)) | {"job", "instance"}
        named = {lab.strip() for group in re.findall(r"\bby \(([^)]*)\)", expr)
                 for lab in group.split(",")}
        named |= set(re.findall(r"[{,]\s*([a-z_]+)\s*=~?", expr))
        if named - labels:
            problems.append(f"{expr!r}: unknown labels {named - labels}")
    return problems


def test_ops_grafana_dashboard_names_only_metrics_and_labels_that_exist():
    dashboard = json.loads((OPS / "grafana-rugsd.json").read_text())
    registry = _registry()
    assert dashboard_problems(dashboard, registry) == []
    exprs = _exprs(dashboard)
    used = {registry[n][0] for e in exprs for n in re.findall(r"\brugsd_[a-z0-9_]+\b", e)}
    # what the dashboard is for: state, P&L, orders, refusals by reason, feed lag, latency
    for family in ("rugsd_trading_state", "rugsd_kill_latched", "rugsd_session_pnl_sol",
                   "rugsd_orders", "rugsd_refusals", "rugsd_feed_last_event_age_seconds",
                   "rugsd_decision_latency_seconds"):
        assert family in used, family
    assert any("by (reason)" in e and "rugsd_refusals_total" in e for e in exprs)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    assert all({"x", "y", "w", "h"} <= set(p["gridPos"]) for p in dashboard["panels"])
    assert dashboard["__inputs"][0]["name"] == "DS_PROMETHEUS"


def test_ops_dashboard_check_catches_unknown_metrics_and_labels():
    registry = _registry()
    dashboard = json.loads((OPS / "grafana-rugsd.json").read_text())
    target = dashboard["panels"][1]["targets"][0]
    for expr, what in (
        ("rugsd_feed_lag_seconds", "does not export"),
        ("rugsd_orders", "does not export"),  # the family, not the sample name
        ("sum by (action) (rate(rugsd_refusals_total[5m]))", "unknown labels"),
        ('rugsd_ticks_total{reason="x"}', "unknown labels"),
    ):
        target["expr"] = expr
        problems = dashboard_problems(dashboard, registry)
        assert len(problems) == 1 and what in problems[0], (expr, problems)
