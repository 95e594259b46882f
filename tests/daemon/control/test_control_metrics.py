"""The Prometheus metrics registry and its loopback HTTP endpoint."""

from __future__ import annotations

import aiohttp
import pytest
from kits.scripted_daemon import ScriptedDaemon
from prometheus_client.parser import text_string_to_metric_families

from rugsd.daemon.config import ControlConfig
from rugsd.daemon.control.client import send_command
from rugsd.daemon.control.metrics import MetricsServer, RugsdMetrics, start_metrics_server


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_metrics_endpoint_serves_counters_on_loopback(free_port):
    m = RugsdMetrics()
    m.ticks_total.inc(7)
    m.observe_decision("refused", "max_bet", 80e-6)
    m.observe_decision("order", "", 120e-6)
    m.orders_total.labels(action="buy").inc()
    m.fills_total.labels(kind="rug_sell").inc()
    m.feed_reconnects_total.inc(2)
    m.feed_stale.set(1)
    m.set_trading_state("halted", kill_latched=False)
    server = MetricsServer(m, "127.0.0.1", free_port)
    port = await server.start()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/metrics") as resp,
        ):
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/plain")
            text = await resp.text()
    finally:
        await server.stop()
    s = _samples(text)
    assert s[("rugsd_ticks_total", ())] == 7
    assert s[("rugsd_refusals_total", (("reason", "max_bet"),))] == 1
    assert s[("rugsd_decisions_total", (("verdict", "order"),))] == 1
    assert s[("rugsd_orders_total", (("action", "buy"),))] == 1
    assert s[("rugsd_fills_total", (("kind", "rug_sell"),))] == 1
    assert s[("rugsd_feed_reconnects_total", ())] == 2
    assert s[("rugsd_feed_stale", ())] == 1
    assert s[("rugsd_decision_latency_seconds_count", ())] == 2
    assert s[("rugsd_decision_latency_seconds_bucket", (("le", "0.0001"),))] == 1
    assert s[("rugsd_trading_state", (("rugsd_trading_state", "HALTED"),))] == 1
    assert s[("rugsd_trading_state", (("rugsd_trading_state", "ACTIVE"),))] == 0


async def test_metrics_registries_are_independent_and_port_zero_means_off():
    a, b = RugsdMetrics(), RugsdMetrics()
    a.ticks_total.inc()
    assert b"rugsd_ticks_total 1.0" in a.render()
    assert b"rugsd_ticks_total 0.0" in b.render()
    assert await start_metrics_server(ControlConfig(metrics_port=0), a) is None


async def test_metrics_endpoint_refuses_non_loopback_hosts():
    with pytest.raises(ValueError, match="loopback"):
        MetricsServer(RugsdMetrics(), "0.0.0.0", 0)


async def test_metrics_count_control_commands_and_refused_requests(tmp_path):
    m = RugsdMetrics()
    sock = tmp_path / "run" / "control.sock"
    async with ScriptedDaemon().serve(sock, metrics=m):
        await send_command(sock, "pause", timeout=5)
        await send_command(sock, "arm", {}, timeout=5)  # bad args
    s = _samples(m.render().decode())
    assert s[("rugsd_control_commands_total", (("cmd", "pause"),))] == 1
    assert s[("rugsd_control_errors_total", (("kind", "bad_args"),))] == 1


def test_metrics_follow_the_account_block_and_the_feed_lag_at_scrape_time():
    m = RugsdMetrics()
    before = _samples(m.render().decode())
    assert before[("rugsd_balance_sol", ())] != before[("rugsd_balance_sol", ())], "NaN"
    account = {"balance_sol": 0.981, "equity_sol": 0.9957, "session_pnl_sol": 0.0061,
               "realised_sol": 0.0042, "unrealised_sol": 0.0047, "cost_sol": 0.01}
    age = {"ms": 120}
    m.follow(lambda: account, lambda: age["ms"])
    s = _samples(m.render().decode())
    assert s[("rugsd_balance_sol", ())] == 0.981
    assert s[("rugsd_equity_sol", ())] == 0.9957
    assert s[("rugsd_session_pnl_sol", ())] == 0.0061
    assert s[("rugsd_realised_pnl_sol", ())] == 0.0042
    assert s[("rugsd_unrealised_pnl_sol", ())] == 0.0047
    assert s[("rugsd_position_cost_sol", ())] == 0.01
    assert s[("rugsd_feed_last_event_age_seconds", ())] == 0.12
    account["balance_sol"], age["ms"] = 0.5, None  # read again at the next scrape
    s = _samples(m.render().decode())
    assert s[("rugsd_balance_sol", ())] == 0.5
    assert s[("rugsd_feed_last_event_age_seconds", ())] != s[
        ("rugsd_feed_last_event_age_seconds", ())], "no feed: NaN"
