"""The gauges the Grafana dashboard plots (docs/ops) on a real daemon: the account gauges
are the numbers ``rugsd status`` shows, the feed lag is small on a live feed."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from daemon_proc import DaemonProc
from e2e_live import CHURN, flat_and_idle, scrape, until

pytestmark = pytest.mark.timeout(90)


async def test_ops_metrics_account_gauges_match_the_snapshot_and_feed_lag_is_live(
    live_daemon: Callable[..., DaemonProc],
) -> None:
    d = live_daemon(env=CHURN, metrics=True)
    # trading happened, and nothing is moving the balance right now
    await until(lambda: scrape(d.metrics_port).get(("rugsd_fills_total", (("kind", "sell"),))),
                30, "a sell fill", d)

    def settled():
        snap = d.snapshot()
        if not flat_and_idle(snap):
            return None
        samples = scrape(d.metrics_port)
        again = d.snapshot()
        return (snap, samples) if again["account"] == snap["account"] else None

    snap, samples = await until(settled, 30, "a flat account between two reads", d)
    account = snap["account"]
    assert samples[("rugsd_balance_sol", ())] == pytest.approx(account["balance_sol"], abs=1e-12)
    assert samples[("rugsd_equity_sol", ())] == pytest.approx(account["equity_sol"], abs=1e-12)
    assert samples[("rugsd_session_pnl_sol", ())] == pytest.approx(
        account["session_pnl_sol"], abs=1e-12)
    assert samples[("rugsd_realised_pnl_sol", ())] == pytest.approx(
        account["realised_sol"], abs=1e-12)
    assert samples[("rugsd_position_cost_sol", ())] == 0
    assert account["session_pnl_sol"] != 0, "trading moved the P&L: the gauge is not a constant"
    lag = samples[("rugsd_feed_last_event_age_seconds", ())]
    assert not math.isnan(lag) and 0 <= lag < 2.0, lag
    assert samples[("rugsd_decision_latency_seconds_count", ())] > 0
