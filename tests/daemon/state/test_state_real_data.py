"""The state machine driven by the real captures and recordings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from state_helpers import of_type

from rugsd.daemon.events import GameUpdate, Phase
from rugsd.daemon.protocol.parse import EventParser
from rugsd.daemon.protocol.recording import tick_line_to_update
from rugsd.daemon.state.machine import GameStateMachine
from rugsd.daemon.state.transitions import (
    Anomaly,
    AnomalyKind,
    GameFinished,
    HistoryRevealed,
    PhaseChanged,
    Rugged,
    Transition,
)

RANK = {Phase.UNKNOWN: -1, Phase.COOLDOWN: 0, Phase.PRESALE: 1, Phase.ACTIVE: 2, Phase.RUGGED: 3}


class Driver:
    """Applies updates and checks the view invariants after every one."""

    def __init__(self) -> None:
        self.machine = GameStateMachine()
        self.transitions: list[Transition] = []
        self.phases: dict[str, list[Phase]] = {}

    def apply(self, update: GameUpdate) -> tuple[Transition, ...]:
        before = self.machine.view
        out = self.machine.apply(update)
        self.transitions.extend(out)
        view = self.machine.view
        if view.game_id == before.game_id:
            assert view.tick >= before.tick, (before.tick, view.tick)
            assert RANK[view.phase] >= RANK[before.phase]
        if view.phase in (Phase.ACTIVE, Phase.RUGGED):
            assert len(view.prices) == view.tick + 1
            assert view.price == view.prices[-1]
        else:
            assert view.tick == -1 and len(view.prices) == 0
        for t in out:
            if isinstance(t, PhaseChanged):
                seq = self.phases.setdefault(view.game_id or "", [])
                seq.append(t.new)
                assert [RANK[p] for p in seq] == sorted(RANK[p] for p in seq)
        return out


def _raw_updates(real_data_dir: Path) -> list[GameUpdate]:
    parser = EventParser()
    out = []
    lines = (real_data_dir / "websocket_raw_samples.jsonl").read_text().splitlines()
    for i, line in enumerate(lines):
        sample = json.loads(line)
        data = sample["data"]
        event = parser.parse(sample["event_type"], data if isinstance(data, list) else [data], i)
        if isinstance(event, GameUpdate):
            out.append(event)
    return out


def test_raw_samples_give_a_consistent_game(real_data_dir: Path) -> None:
    driver = Driver()
    updates = _raw_updates(real_data_dir)
    for update in updates:
        driver.apply(update)
    out = driver.transitions
    m = driver.machine

    assert of_type(out, Rugged) == [Rugged("20251207-e8186dbf38e046d1", 266, 0.00925864293410624)]
    kinds = [a.kind for a in of_type(out, Anomaly)]
    assert kinds.count(AnomalyKind.MID_GAME_JOIN) == 1 and AnomalyKind.BACKFILL in kinds
    assert AnomalyKind.MISSED_RUG not in kinds and AnomalyKind.GAP not in kinds

    # the joined game, once backfilled, is bit-exact against the server's own record
    done = of_type(out, GameFinished)
    assert len(done) == 1 and done[0].rug_seen and done[0].complete
    record = m.finished_game("20251207-e8186dbf38e046d1")
    assert record is not None and record.prices == done[0].prices
    assert done[0].summary.peak == record.peak

    # all 11 seeds captured, recent ordered oldest first with the watched game last
    revealed = of_type(out, HistoryRevealed)
    assert len(revealed) == 11 and all(r.game.server_seed for r in revealed)
    recent = m.view.recent
    assert len(recent) == 11 and recent[-1].game_id == "20251207-e8186dbf38e046d1"
    assert recent[0].game_id == "20251207-67b9664de9e24662" and recent[0].rug_tick == 373
    for summary in recent:
        game = m.finished_game(summary.game_id)
        assert game is not None and game.prices is not None
        assert summary.rug_tick == len(game.prices) - 1

    view = m.view
    assert view.game_id == "20251207-88792b42a6b44197" and view.phase is Phase.COOLDOWN
    assert view.cooldown_ms == 11500 and view.server_seed_hash is not None
    assert driver.phases["20251207-88792b42a6b44197"] == [Phase.COOLDOWN]


def test_key_samples_in_capture_order(real_data_dir: Path) -> None:
    samples = json.loads((real_data_dir / "key_samples.json").read_text())
    ordered = sorted(
        (s for s in samples.values() if s["event_type"] == "gameStateUpdate"),
        key=lambda s: s["_meta"]["index"],
    )
    parser = EventParser()
    driver = Driver()
    for sample in ordered:
        event = parser.parse("gameStateUpdate", [sample["data"]], sample["timestamp_ms"])
        assert isinstance(event, GameUpdate)
        driver.apply(event)
    gid = "20260206-003482fbeaae4ad5"
    assert driver.phases[gid] == [Phase.COOLDOWN, Phase.PRESALE, Phase.ACTIVE, Phase.RUGGED]
    view = driver.machine.view
    assert view.rug_tick == 255 and view.started_ts_ms == 1770365073389
    assert view.prices[103] == 0.45273518739708896 and view.prices[254] == 0.10599876754314011
    assert len(of_type(driver.transitions, HistoryRevealed)) == 10


def _load_recording(path: Path) -> list[dict[str, Any]]:
    out = []
    for raw in path.read_text().splitlines():
        try:
            obj = json.loads(raw)
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def _rug_files(real_data_dir: Path) -> list[Path]:
    """~20 recordings with a rug line, spread over the sample, plus mid-game starts and an
    instarug."""
    files = sorted((real_data_dir / "recordings").glob("*.jsonl"))
    chosen = files[:: max(1, len(files) // 24)]
    chosen += [
        real_data_dir / "recordings" / name
        for name in (
            "game_20251029_183608.jsonl",  # starts mid-game at tick 347
            "game_20251029_210304.jsonl",  # starts mid-game, second line goes back one tick
            "game_20251030_103259_0653435e.jsonl",  # instarug at tick 1
        )
    ]
    # files whose rug line parses (in a few the rug line itself is cut or merged)
    return [f for f in dict.fromkeys(chosen)
            if any(o.get("type") == "tick" and o.get("rugged") is True
                   for o in _load_recording(f))]


def test_recordings_each_give_one_finished_game(real_data_dir: Path) -> None:
    files = _rug_files(real_data_dir)
    assert len(files) >= 20
    for path in files:
        lines = _load_recording(path)
        ticks = [o for o in lines if o.get("type") == "tick"]
        first_rug = next(o for o in ticks if o["rugged"])
        driver = Driver()
        for obj in lines:
            update = tick_line_to_update(obj)
            if update is not None:
                driver.apply(update)
        done = of_type(driver.transitions, GameFinished)
        assert len(done) == 1, path.name
        summary = done[0].summary
        assert done[0].rug_seen and summary.game_id == first_rug["game_id"]
        assert summary.rug_tick == first_rug["tick"], path.name
        assert 1 <= summary.rug_tick <= 5001
        assert len(done[0].prices) == summary.rug_tick + 1
        assert done[0].prices[-1] == first_rug["price"] < 0.03
        peak_seen = max(o["price"] for o in ticks if o["active"] and not o["rugged"])
        assert summary.peak >= peak_seen


def test_recordings_back_to_back_in_one_machine(real_data_dir: Path) -> None:
    files = sorted((real_data_dir / "recordings").glob("*.jsonl"))[:25]
    driver = Driver()
    rugs = 0
    for path in files:
        lines = _load_recording(path)
        rugs += any(o.get("type") == "tick" and o.get("rugged") for o in lines)
        for obj in lines:
            update = tick_line_to_update(obj)
            if update is not None:
                driver.apply(update)
    done = of_type(driver.transitions, GameFinished)
    assert sum(d.rug_seen for d in done) == rugs
    assert len(driver.machine.view.recent) == min(len(done), 50)


@pytest.mark.parametrize("name", ["game_20251029_183608.jsonl", "game_20251029_210304.jsonl"])
def test_recording_starting_mid_game_is_a_join(real_data_dir: Path, name: str) -> None:
    driver = Driver()
    for obj in _load_recording(real_data_dir / "recordings" / name):
        update = tick_line_to_update(obj)
        if update is not None:
            driver.apply(update)
    kinds = [a.kind for a in of_type(driver.transitions, Anomaly)]
    assert kinds.count(AnomalyKind.MID_GAME_JOIN) == 1
    assert driver.machine.view.started_ts_ms is None
