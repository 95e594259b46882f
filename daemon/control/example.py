"""A realistic, fixed control-plane snapshot (docs, the TUI screenshot script, tests).

Re-exported by ``rugsd.daemon.control.protocol``.
"""

from __future__ import annotations

from typing import Any

from rugsd.daemon.control.snapshot_schema import PROTOCOL_VERSION

_GAME = "20260101-5bd2e1c09a7f4e21"
_ACTIONS = ("wait", "buy_small", "buy_medium", "buy_large", "sell_25", "sell_50", "sell_100",
            "sidebet")


def _decision(tick: int, intent: str, source: str, verdict: str, *, ts: int,
              reason: str = "", order: str | None = None) -> dict[str, Any]:
    return {"ts_ms": ts, "game_id": _GAME, "tick": tick, "intent": intent, "source": source,
            "verdict": verdict, "reason": reason, "order_id": order}


def example_snapshot() -> dict[str, Any]:
    """A realistic, fixed snapshot (docs, the screenshot script and tests use it)."""
    prices = [1.0]
    # a deterministic, game-like path: drift, a big move, a dip, a recovery
    steps = [0.012, -0.008, 0.02, 0.004, -0.015, 0.018, 0.009, 0.2, -0.01, 0.006,
             -0.022, 0.011, -0.17, 0.014, 0.017, -0.006, 0.021, 0.003, -0.012, 0.016]
    for i in range(120):
        prices.append(round(prices[-1] * (1 + steps[i % len(steps)]), 6))
    return {
        "type": "snapshot",
        "v": PROTOCOL_VERSION,
        "seq": 4211,
        "ts_ms": 1_767_225_600_000,
        "daemon": {
            "pid": 4242,
            "run_id": "20260101-0930-7f3a",
            "mode": "paper",
            "strategy": "onnx",
            "bundle_version": "v20260101-0412",
            "started_ts_ms": 1_767_223_800_000,
            "executor": "paper",
            "venue": "sim",
        },
        "game": {
            "game_id": _GAME,
            "phase": "active",
            "tick": 120,
            "price": prices[-1],
            "peak": max(prices),
            "cooldown_ms": 0,
            "prices": prices,
            "first_tick": 0,
        },
        "markers": [
            {"tick": 0, "price": 1.0, "kind": "buy"},
            {"tick": 12, "price": prices[12], "kind": "sidebet"},
            {"tick": 40, "price": prices[40], "kind": "sell"},
            {"tick": 95, "price": prices[95], "kind": "buy"},
            {"tick": 100, "price": prices[100], "kind": "sidebet"},
        ],
        "account": {
            "balance_sol": 0.981,
            "qty": 0.009523,
            "avg_entry": prices[95],
            "cost_sol": 0.01,
            "value_sol": round(0.009523 * prices[-1], 9),
            "unrealised_sol": round(0.009523 * prices[-1] - 0.01, 9),
            "realised_sol": 0.0042,
            "equity_sol": round(0.981 + 0.009523 * prices[-1], 9),
            "session_pnl_sol": 0.006123456,
            "entry_tick": 95,
            "sidebet": {"start_tick": 100, "end_tick": 140, "stake_sol": 0.001, "ticks_left": 20},
        },
        "model": {
            "action_names": list(_ACTIONS),
            "action_probs": [0.61, 0.04, 0.02, 0.005, 0.09, 0.015, 0.15, 0.07],
            "p_rug": 0.183,
            "non_finite": 0,
            "fallbacks": 0,
            "action_index": 0,
            "decision": _decision(120, "wait", "onnx:wait", "none", ts=1_767_225_600_000),
        },
        "risk": {
            "state": "ACTIVE",
            "kill_latched": False,
            "flags": {"operator_paused": False, "feed_stale": False, "exec_errors": 0},
            "limits": [
                {"name": "position", "used": 0.0102, "limit": 0.1, "unit": "SOL"},
                {"name": "exposure", "used": 0.0112, "limit": 0.2, "unit": "SOL"},
                {"name": "daily loss", "used": 0.0, "limit": 0.5, "unit": "SOL"},
                {"name": "drawdown", "used": 0.003512345, "limit": 0.3, "unit": "SOL"},
                {"name": "orders/min", "used": 4.0, "limit": 30.0, "unit": "orders"},
            ],
        },
        "decisions": [
            _decision(tick, "wait", "onnx:wait", "none", ts=1_767_225_600_000 - 250 * (120 - tick))
            for tick in range(112, 121)
        ],
        "decision_log": [
            _decision(0, "buy 0.010", "onnx:buy_large", "order", order="o-101",
                      ts=1_767_225_570_000),
            _decision(12, "sidebet 0.001", "onnx:sidebet", "order", order="o-102",
                      ts=1_767_225_573_000),
            _decision(40, "sell 100%", "onnx:sell_100", "order", order="o-103",
                      ts=1_767_225_580_000),
            _decision(80, "buy 0.050", "onnx:buy_large", "refused", reason="max_bet",
                      ts=1_767_225_590_000),
            _decision(95, "buy 0.010", "onnx:buy_large", "order", order="o-104",
                      ts=1_767_225_594_000),
            _decision(100, "sidebet 0.001", "onnx:sidebet", "order", order="o-105",
                      ts=1_767_225_595_000),
            _decision(104, "sidebet 0.001", "onnx:sidebet", "refused", reason="sidebet_open",
                      ts=1_767_225_596_000) | {"repeat": 14, "last_tick": 118,
                                               "last_ts_ms": 1_767_225_599_500},
        ],
        "feed": {
            "url": "http://127.0.0.1:8765",
            "connected": True,
            "stale": False,
            "last_tick_age_ms": 120,
            "reconnects": 1,
            "rejected": 0,
        },
        "execution": {"executor": "paper", "pending_orders": 0, "errors": 0, "last_error": None},
        "audit": {
            "audited": 132, "verified": 132, "hash_mismatch": 0, "path_mismatch": 0,
            "unverifiable": 0, "pending": 0,
            "last": {"game_id": "20260101-9c41d07e2b5a8f13", "result": "verified",
                     "detail": "188 ticks observed match the seed (rug at tick 187)"},
            "last_mismatch": None,
        },
    }
