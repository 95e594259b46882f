"""Risk gate latency: ``rugsd.risk.gate.check`` per call (µs), approved and refused paths.

Figures: p50/p99 of single calls (perf_counter_ns around each call) for
- ``approve_buy``: a buy that runs every rule and becomes an ``Order`` (the worst case),
- ``approve_sell``: a sell,
- ``refuse_halted``: refused at the trading-state rule (early exit),
- ``refuse_rate``: refused at the last rule (rate limit, window holding 29 orders).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

from rugsd.daemon.config import RiskConfig
from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import buy, open_account, sol_to_lamports
from rugsd.daemon.state.view import GameView
from rugsd.risk.context import GameCounters, GateContext, RiskLimits, SessionFigures
from rugsd.risk.gate import check
from rugsd.risk.ratelimit import RateWindow
from rugsd.risk.states import RiskState
from rugsd.strategy.intents import Action, Intent

T0 = 1_700_000_000_000
N = 20_000


def _ctx() -> GateContext:
    acct, _ = buy(open_account(10 * 10**9), sol_to_lamports(0.02), 1.0, 0)
    view = GameView("20250101-0123456789abcdef", Phase.ACTIVE, 42, 1.3, (1.0,) * 43, 1.5, 0,
                    False, T0)
    return GateContext(
        state=RiskState(feed_stale=False, last_event_ms=T0),
        limits=RiskLimits.from_config(RiskConfig()),
        account=acct, view=view, figures=SessionFigures.start(10 * 10**9, T0), ts_ms=T0,
        counters=GameCounters(view.game_id), orders=RateWindow(tuple(range(T0 - 29, T0))),
        run_id="bench",
    )


def _measure(intent: Intent, ctx: GateContext) -> dict:
    for _ in range(1000):  # warm-up
        check(intent, ctx)
    samples = []
    clock = time.perf_counter_ns
    for _ in range(N):
        t0 = clock()
        check(intent, ctx)
        samples.append(clock() - t0)
    samples.sort()
    return {
        "p50_us": round(samples[N // 2] / 1000, 2),
        "p99_us": round(samples[int(N * 0.99)] / 1000, 2),
        "mean_us": round(statistics.fmean(samples) / 1000, 2),
    }


def run() -> dict:
    """Measure the four paths; returns ``{path: {p50_us, p99_us, mean_us}}`` and ``n``."""
    ctx = _ctx()
    buy_ = Intent(Action.BUY, amount=sol_to_lamports(0.01))
    sell_ = Intent(Action.SELL, percentage=50)
    assert type(check(buy_, ctx)).__name__ == "Order"
    halted = replace(ctx, state=replace(ctx.state, operator_paused=True))
    limited = replace(ctx, orders=RateWindow(tuple(range(T0 - 30, T0))))
    return {
        "n": N,
        "approve_buy": _measure(buy_, ctx),
        "approve_sell": _measure(sell_, ctx),
        "refuse_halted": _measure(buy_, halted),
        "refuse_rate": _measure(buy_, limited),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
