"""The per-tick settle shortcut (no sidebet expiring, no paper order waiting: nothing to
do) gives the same record stream as running the full venue rule on every tick — paper
mode with fills a tick or more later, sidebets that expire and win, rugs; and with an
external executor (no paper venue)."""

from __future__ import annotations

import pytest
from core_helpers import ScriptedStrategy, events_of, make_test_core, random_rule, sim_games

from rugsd.daemon.core import decision
from rugsd.daemon.core.decision import CoreSettings, DecisionCore
from rugsd.daemon.core.settle import apply_rule
from rugsd.daemon.game import accounting
from rugsd.daemon.game.accounting import open_account
from rugsd.daemon.journal.records import FillRecord


def _records(core: DecisionCore, events) -> list:
    out = []
    for ev in events:
        out.extend(core.step(ev).records)
    return out


def _external(strategy, game_id: str) -> DecisionCore:
    """A core whose fills an executor would report (none here): it starts holding a
    position and a sidebet in the first game, which its own rules must settle (the
    sidebet expires, the rug force-sells)."""
    paper = make_test_core(strategy)
    cfg = CoreSettings(run_id="ext", limits=paper.cfg.limits, order_prefix="ext",
                       paper_latency_ms=None)
    acct, _ = accounting.buy(open_account(paper.account.balance), 10_000_000, 1.0, 0)
    acct, _ = accounting.place_sidebet(acct, 1_000_000, 0)
    return DecisionCore(strategy, cfg, acct, exposure_game=game_id)


@pytest.mark.parametrize(("latency_ms", "external"), [(0, False), (600, False), (0, True)])
def test_the_shortcut_and_the_full_rule_give_one_record_stream(monkeypatch, latency_ms,
                                                                external):
    games = sim_games(12, seed=41)
    events = events_of(games)

    def run():
        strategy = ScriptedStrategy(random_rule(7))
        core = (_external(strategy, games[0].game_id) if external
                else make_test_core(strategy, latency_ms=latency_ms))
        return _records(core, events)

    short = run()
    with monkeypatch.context() as m:
        m.setattr(decision, "settle", apply_rule)  # every tick through the full rule
        full = run()

    assert short == full
    fills = {r.kind for r in short if isinstance(r, FillRecord)}
    if external:  # the core's own rules settled what it held
        assert fills == {"sidebet_loss", "rug_sell"} or fills == {"sidebet_win", "rug_sell"}
    else:  # the paper venue fills: buys, sells, sidebets settled
        assert {"buy", "sidebet_place", "rug_sell"} <= fills
        assert fills & {"sidebet_loss", "sidebet_win"}
