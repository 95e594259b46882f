"""The decision core and the audit: the core hands out audit requests from the feed, and a
verdict stepped back in is journaled and acts per ``on_mismatch`` (halt, kill, warn) —
deterministically, inside the core, like every other input."""

from __future__ import annotations

from dataclasses import replace

import pytest
from audit_helpers import room_updates

from rugsd.daemon.audit.check import audit_game
from rugsd.daemon.audit.model import AuditVerdict
from rugsd.daemon.config import RiskConfig
from rugsd.daemon.core.decision import CoreSettings, DecisionCore
from rugsd.daemon.core.inputs import OperatorAction, OperatorInput
from rugsd.daemon.game.accounting import open_account, sol_to_lamports
from rugsd.daemon.journal.records import AuditRecord, KillEvent, RiskEvent
from rugsd.risk.context import RiskLimits
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.states import TradingState
from rugsd.strategy.registry import build_strategy


def _core(on_mismatch: str = "halt") -> DecisionCore:
    from rugsd.daemon.config import Settings

    settings = Settings.model_validate({"strategy": {"name": "presale_target"}})
    cfg = CoreSettings(run_id="t", limits=RiskLimits.from_config(RiskConfig()),
                       on_mismatch=on_mismatch)
    return DecisionCore(build_strategy(settings), cfg, open_account(sol_to_lamports(10)))


def _drive(core: DecisionCore, updates) -> list:
    """Feed ``updates``; run each audit the core asks for and step its verdict back in
    at the same event time (the daemon does this from a worker thread)."""
    records = []
    for u in updates:
        out = core.step(u)
        records.extend(out.records)
        for request in out.audits:
            records.extend(core.step(AuditVerdict(u.ts_ms, audit_game(request))).records)
    return records


@pytest.mark.parametrize("tamper", ["price", "seed", "late-rug"])
def test_a_mismatch_halts_trading_with_reason_venue_integrity(tamper: str) -> None:
    core = _core()
    records = _drive(core, room_updates(2, tamper=tamper))
    audits = [r for r in records if isinstance(r, AuditRecord)]
    assert audits and all(a.result != "verified" for a in audits)
    halts = [r for r in records if isinstance(r, RiskEvent) and r.reason == "venue_integrity"]
    assert halts[0].new_state == "halted"
    assert core.trading_state is TradingState.HALTED and core.risk.venue_halted
    assert audits[0].game_id in halts[0].detail
    assert core.audit_book.summary()["last_mismatch"]["game_id"] == audits[-1].game_id
    # the presale of the next game: the strategy's buy is refused as halted
    refused = [d for d in core.stats if d.startswith("refused_")]
    assert "refused_state_halted" in refused


def test_honest_games_are_journaled_as_verified_and_trading_goes_on() -> None:
    core = _core()
    records = _drive(core, room_updates(3))
    audits = [r for r in records if isinstance(r, AuditRecord)]
    assert [a.result for a in audits] == ["verified"] * 3
    assert all(a.commitment and a.server_seed and a.rug_tick for a in audits)
    assert core.trading_state is TradingState.ACTIVE
    assert core.stats["orders"] > 0
    assert core.audit_book.summary()["verified"] == 3


def test_kill_mode_kills_and_warn_mode_only_records() -> None:
    updates = room_updates(1, tamper="price")
    killed = _core("kill")
    records = _drive(killed, updates)
    assert killed.trading_state is TradingState.KILLED
    assert killed.risk.kill_reason is ReasonCode.VENUE_INTEGRITY
    assert any(isinstance(r, KillEvent) and "venue_integrity" in r.reason for r in records)
    warned = _core("warn")
    records = _drive(warned, updates)
    assert warned.trading_state is TradingState.ACTIVE
    assert [r.result for r in records if isinstance(r, AuditRecord)] == ["path_mismatch"]


def test_an_operator_resume_lifts_the_venue_halt() -> None:
    core = _core()
    updates = room_updates(1, tamper="seed")
    _drive(core, updates)
    assert core.trading_state is TradingState.HALTED
    ts = updates[-1].ts_ms + 1
    core.step(OperatorInput(ts, OperatorAction.RESUME, "cli", "test"))
    assert core.trading_state is TradingState.ACTIVE


def test_the_audited_replay_is_deterministic() -> None:
    updates = room_updates(2, tamper="price")
    first, second = _drive(_core(), updates), _drive(_core(), updates)
    assert first == second


def test_the_core_observes_every_update_even_before_the_machine() -> None:
    core = _core()
    updates = room_updates(1)
    stale = replace(updates[0], game_id="20260101-0000000000000000")
    out = core.step(stale)
    assert out.audits == []
    assert core.audit.pending == 1
