"""Helpers for the audit tests: real simulator games as parsed feed updates, and the
real December 2025 capture kept in the repo.

``room_updates`` plays the simulator's pure ``Room`` (honest, or cheating with a tamper
mode) and parses every ``gameStateUpdate`` it emits with the daemon's own
``EventParser`` — the exact payloads a client receives over Socket.IO.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from rugsd.daemon.audit.check import audit_game
from rugsd.daemon.audit.model import AuditRequest, GameAudit
from rugsd.daemon.audit.observe import GameObserver
from rugsd.daemon.events import GameUpdate
from rugsd.daemon.protocol.parse import EventParser
from rugsd.daemon.sim.desk import GAME_STATE, Emit
from rugsd.daemon.sim.room import Room

START_MS = 1_767_225_600_000
DATA = Path(__file__).resolve().parents[2] / "data" / "real"
RAW_SAMPLES = DATA / "raw_history_samples.jsonl.gz"
"""23 verbatim lines of ``shared/data/real/websocket_raw_samples.jsonl`` (lines 1-13,
156-162, 164-166): a mid-game connect at tick 129 with its ``prices`` backfill, live ticks,
the rug at tick 266, and the two ``gameHistory`` payloads that reveal all 11 real games."""
RECORDING = DATA / "recording_sample.jsonl.gz"
"""One verbatim file of ``shared/data/real/recordings`` (a whole game, no seed)."""

REAL_GAME_IDS = (
    "20251207-1e01ac417e8043ca", "20251207-31a51b95c19745e9", "20251207-591d94f81da4432d",
    "20251207-51493d3e918e46aa", "20251207-353b3eb587dd470c", "20251207-faa107ca5de24c77",
    "20251207-60eadfaad3934e72", "20251207-b1207bb1c80348c0", "20251207-ba230d8dcbab441e",
    "20251207-67b9664de9e24662", "20251207-e8186dbf38e046d1",
)


def make_room(seed: str = "7", tamper: str | None = None) -> Room:
    """A simulator room (virtual time, no network)."""
    return Room(seed, start_ms=START_MS, starting_balance=10**9, tamper=tamper)


def step_updates(room: Room, parser: EventParser) -> list[GameUpdate]:
    """Play one room step; the parsed ``gameStateUpdate``s it emitted."""
    out = []
    for o in room.step():
        if isinstance(o, Emit) and o.event == GAME_STATE:
            event = parser.parse(o.event, list(o.args), room.now_ms)
            assert isinstance(event, GameUpdate)
            out.append(event)
    return out


def room_updates(games: int, seed: str = "7", tamper: str | None = None) -> list[GameUpdate]:
    """The updates of ``games`` whole games, through the update revealing the last one."""
    room = make_room(seed, tamper)
    parser = EventParser()
    out: list[GameUpdate] = []
    while room.games_played < games:
        out.extend(step_updates(room, parser))
    return out


def audits_of(updates: list[GameUpdate], **observer_kw: Any) -> list[GameAudit]:
    """Observe ``updates`` like the core does and audit every request (flushing at the end)."""
    observer = GameObserver(**observer_kw)
    requests: list[AuditRequest] = []
    for u in updates:
        requests.extend(observer.observe(u) or ())
    requests.extend(observer.flush(updates[-1].ts_ms if updates else 0))
    return [audit_game(r) for r in requests]


def raw_lines() -> list[dict[str, Any]]:
    """The fixture's raw capture lines, decoded."""
    with gzip.open(RAW_SAMPLES, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def write_raw(path: Path, lines: list[dict[str, Any]]) -> Path:
    """Write raw capture lines (plain JSON lines)."""
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def payload(line: dict[str, Any]) -> dict[str, Any]:
    """The payload of a raw capture line (the last argument)."""
    data = line["data"]
    return data[-1] if isinstance(data, list) else data
