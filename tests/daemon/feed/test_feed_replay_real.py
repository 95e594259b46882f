"""Replay of all 639 real recordings: every line accounted for, games recovered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rugsd.daemon.events import GameUpdate
from rugsd.daemon.feed.replay import ReplayError, ReplaySource
from rugsd.daemon.state.machine import GameStateMachine
from rugsd.daemon.state.transitions import GameFinished


def _independent_counts(folder: Path) -> dict[str, int]:
    """Counts from a plain json.loads loop, written without the replay code."""
    files = sorted(folder.rglob("*.jsonl"))
    out = {"files": len(files), "lines": 0, "malformed": 0, "ticks": 0, "files_with_rug": 0}
    rugged_games: set[str] = set()
    for path in files:
        rug = False
        with path.open("rb") as fh:
            for raw in fh:
                out["lines"] += 1
                try:
                    obj = json.loads(raw)
                except ValueError:
                    out["malformed"] += 1
                    continue
                if isinstance(obj, dict) and obj.get("type") == "tick":
                    out["ticks"] += 1
                    if obj.get("rugged") is True:
                        rug = True
                        rugged_games.add(obj.get("game_id"))
        out["files_with_rug"] += rug
    out["rugged_games"] = len(rugged_games)
    return out


@pytest.fixture(scope="module")
def real_replay(full_real_data_dir):
    folder = full_real_data_dir / "recordings"
    source = ReplaySource(folder)
    events = list(source.iter_events())
    return folder, source, events


def test_replay_reads_every_real_file_and_counts_malformed_like_json_loads(real_replay) -> None:
    folder, source, events = real_replay
    expected = _independent_counts(folder)
    stats = source.stats

    assert stats.files == expected["files"] == 639
    assert stats.lines == expected["lines"]
    assert stats.malformed == expected["malformed"]
    assert stats.lines == stats.events + stats.malformed + stats.skipped + stats.meta
    assert stats.events == len(events) > 200_000
    assert sum(fs.lines for fs in stats.per_file.values()) == stats.lines


def test_replay_yields_game_updates_in_file_order(real_replay) -> None:
    _, source, events = real_replay
    first_file = next(iter(source.stats.per_file))

    assert all(isinstance(ev, GameUpdate) for ev in events)  # no trades in this set
    assert first_file.endswith("game_20251029_183608.jsonl")
    assert events[0].game_id == "20251029-e0e72b644b944a13" and events[0].tick == 347


def test_state_machine_finishes_every_game_whose_rug_was_recorded(real_replay) -> None:
    folder, _, events = real_replay
    expected = _independent_counts(folder)
    machine = GameStateMachine()

    finished = [t for ev in events for t in machine.apply(ev) if isinstance(t, GameFinished)]
    rugged = [t.summary.game_id for t in finished if t.rug_seen]

    # 598 files hold a rug line but one game was recorded twice (two recorders on 31 Oct)
    assert expected["files_with_rug"] == 598 and expected["rugged_games"] == 597
    assert len(rugged) == len(set(rugged)) == expected["rugged_games"]


def test_missing_path_and_empty_folder_raise_a_clear_error(tmp_path) -> None:
    with pytest.raises(ReplayError, match="does not exist"):
        ReplaySource(tmp_path / "nope")
    with pytest.raises(ReplayError, match="no \\*.jsonl"):
        ReplaySource(tmp_path)
