"""Recorder file handling: one file per game, raw lines, bounded pending buffer."""

from __future__ import annotations

import json

from rugsd.daemon.feed import recorder as rec
from rugsd.daemon.feed.recorder import Recorder, game_id_of

TRACE = {"__trace": True, "traceparent": "00-abc-def-01"}


def _gsu(game_id: str, **extra) -> list:
    return [TRACE, {"gameId": game_id, "cooldownTimer": 0, **extra}]


def test_recorder_rotates_per_game_and_keeps_raw_args(tmp_path) -> None:
    r = Recorder(tmp_path)

    r.on_raw("standard/newTrade", [TRACE, {"id": "t0"}], 1)  # before any game id: held
    r.on_raw("gameStateUpdate", _gsu("20250101-aaaa"), 2)
    r.on_raw("standard/newTrade", [TRACE, {"id": "t1"}], 3)
    r.on_raw("gameStateUpdate", _gsu("20250101-bbbb"), 4)
    r.close()

    a = [json.loads(x) for x in (tmp_path / "20250101-aaaa.jsonl").read_text().splitlines()]
    b = [json.loads(x) for x in (tmp_path / "20250101-bbbb.jsonl").read_text().splitlines()]
    assert [x["recv_ts_ms"] for x in a] == [1, 2, 3]
    assert a[1] == {"recv_ts_ms": 2, "event": "gameStateUpdate", "args": _gsu("20250101-aaaa")}
    assert [x["recv_ts_ms"] for x in b] == [4]
    assert r.stats.lines == 4 and r.stats.files == 2


def test_every_line_reaches_the_file_before_close(tmp_path) -> None:
    r = Recorder(tmp_path)
    r.on_raw("gameStateUpdate", _gsu("20250101-aaaa"), 1)
    r.on_raw("gameStateUpdate", _gsu("20250101-aaaa"), 2)

    # not closed: what a kill -9 would leave behind
    text = (tmp_path / "20250101-aaaa.jsonl").read_text()

    assert text.count("\n") == 2
    r.close()


def test_unsafe_game_ids_never_become_file_names(tmp_path) -> None:
    assert game_id_of("gameStateUpdate", _gsu("../../etc/passwd")) is None
    assert game_id_of("gameStateUpdate", _gsu("a/b")) is None
    assert game_id_of("gameStateUpdate", [TRACE, "not a dict"]) is None
    assert game_id_of("standard/newTrade", _gsu("20250101-aaaa")) is None
    assert game_id_of("gameStateUpdate", _gsu("20251029-e0e72b644b944a13")) == (
        "20251029-e0e72b644b944a13"
    )


def test_pending_lines_are_bounded_and_flushed_on_close(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(rec, "MAX_PENDING", 3)
    r = Recorder(tmp_path)
    for i in range(5):
        r.on_raw("chat", [{"i": i}], i)

    r.close()

    (only,) = list(tmp_path.glob("unknown-*.jsonl"))
    lines = [json.loads(x) for x in only.read_text().splitlines()]
    assert [x["args"][0]["i"] for x in lines] == [2, 3, 4]
    assert r.stats.dropped == 2


def test_binary_arguments_are_recorded_not_fatal(tmp_path) -> None:
    r = Recorder(tmp_path)
    r.on_raw("gameStateUpdate", _gsu("20250101-aaaa"), 1)
    r.on_raw("blob", [b"\x00\x01"], 2)
    r.close()

    last = json.loads((tmp_path / "20250101-aaaa.jsonl").read_text().splitlines()[-1])
    assert last["args"] == [{"__bytes_b64__": "AAE="}]
