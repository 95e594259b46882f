"""The default strategy of the committed ``config.toml`` behaves on the daemon's own path.

Replayed over the in-repo sample of real recordings with the default configuration (its
``[risk]``, paper latency and starting balance), the shipped default (``models/current``
when ``strategy.name = "onnx"``) must not lean on the risk gate (≤ 5 % of its non-wait
intents refused), must exit most positions by selling rather than by the rug, and its
action distribution must not move with the account's size (0.1 / 1 / 10 / 100 SOL).
"""

from __future__ import annotations

from rugsd.daemon.config import load_settings
from rugsd.daemon.runtime.replay import recorded_events, replay_paths, sources_of
from rugsd.strategy.registry import build_strategy
from rugsd.training.evaluate import MAX_REFUSED_SHARE, MAX_SCALE_TV, scale_check


def test_the_default_strategy_needs_no_risk_gate_and_sells_its_positions(sample_recordings):
    settings = load_settings()

    played, _ = replay_paths([sample_recordings], settings)
    figures = played.figures()

    assert figures["non_wait_intents"] > 0  # it trades
    assert figures["refused_share"] <= MAX_REFUSED_SHARE, figures["orders_refused"]
    assert figures["exits"]["sold"] > figures["exits"]["rugged"], figures["exits"]


def test_the_default_strategy_acts_alike_at_any_account_size(sample_recordings):
    settings = load_settings()

    scales = scale_check(lambda: build_strategy(settings),
                         lambda: recorded_events(sources_of([sample_recordings])), settings)

    assert set(scales["balances"]) == {"0.1", "1", "10", "100"}
    assert scales["max_tv"] <= MAX_SCALE_TV, scales
