"""Recorded tick lines → GameUpdate: the real line shapes, reasons for unusable lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rugsd.daemon.events import GameUpdate
from rugsd.daemon.protocol.recording import tick_line_reason, tick_line_to_update, timestamp_to_ms

LINE: dict[str, Any] = {
    "type": "tick",
    "timestamp": "2025-10-29T18:36:08.376110",
    "game_id": "20251029-e0e72b644b944a13",
    "tick": 347,
    "price": 37.168023096688245,
    "phase": "ACTIVE_GAMEPLAY",
    "active": True,
    "rugged": False,
    "cooldown_timer": 0,
    "trade_count": 799,
}


def test_active_line_converts() -> None:
    update = tick_line_to_update(LINE)
    assert isinstance(update, GameUpdate)
    assert update.game_id == LINE["game_id"] and update.tick == 347
    assert update.price == LINE["price"] and update.trade_count == 799
    assert (update.active, update.rugged, update.allow_prebuys) == (True, False, False)
    assert update.ts_ms == 1761762968376  # naive timestamps are UTC


def test_presale_and_settlement_lines_set_allow_prebuys() -> None:
    presale = tick_line_to_update(
        dict(LINE, phase="PRESALE", active=False, cooldown_timer=10000, tick=0, price=1)
    )
    settle = tick_line_to_update(
        dict(LINE, phase="UNKNOWN", active=False, cooldown_timer=10100, tick=0, price=1)
    )
    odd_label = tick_line_to_update(dict(LINE, phase="UNKNOWN", active=False, cooldown_timer=300))
    assert presale is not None and presale.allow_prebuys and presale.cooldown_ms == 10000
    assert isinstance(presale.price, float)
    assert settle is not None and not settle.allow_prebuys
    assert odd_label is not None and odd_label.allow_prebuys


def test_rug_line_keeps_flags() -> None:
    update = tick_line_to_update(dict(LINE, rugged=True, price=0.0186, phase="RUG_EVENT_1"))
    assert update is not None and update.rugged and update.active


def test_timestamps_with_zone_and_without_fraction() -> None:
    assert timestamp_to_ms("2025-10-30T17:15:04") == 1761844504000
    assert timestamp_to_ms("2025-10-30T17:15:04Z") == 1761844504000
    assert timestamp_to_ms("2025-10-30T18:15:04+01:00") == 1761844504000
    assert timestamp_to_ms("yesterday") is None and timestamp_to_ms(5) is None


def test_unusable_lines_give_reasons() -> None:
    assert tick_line_reason({"type": "game_start", "game_id": LINE["game_id"]}) == "not_tick"
    assert tick_line_reason([LINE]) == "not_object"
    assert tick_line_reason(dict(LINE, game_id="bad")) == "game_id"
    assert tick_line_reason(dict(LINE, timestamp="2025-99-99")) == "timestamp"
    assert tick_line_reason(dict(LINE, active="true")) == "flags"
    assert tick_line_reason(dict(LINE, tick=-1)) == "tick"
    assert tick_line_reason(dict(LINE, tick=True)) == "tick"
    assert tick_line_reason(dict(LINE, price=float("nan"))) == "price"
    assert tick_line_reason(dict(LINE, price=None)) == "price"
    assert tick_line_reason(dict(LINE, cooldown_timer=-5)) == "cooldown_timer"
    assert tick_line_reason(dict(LINE, trade_count=1.5)) == "trade_count"
    assert tick_line_to_update(dict(LINE, tick="347")) is None


def _convert_all(folder: Path) -> tuple[int, int]:
    """(tick lines, converted) over every recording in ``folder``."""
    ticks = converted = 0
    for path in sorted(folder.glob("*.jsonl")):
        for raw in path.read_text().splitlines():
            try:
                obj = json.loads(raw)
            except ValueError:
                continue  # cut/merged lines: the replay source counts those
            update = tick_line_to_update(obj)
            if isinstance(obj, dict) and obj.get("type") == "tick":
                ticks += 1
                converted += update is not None
            else:
                assert update is None
    return ticks, converted


def test_every_well_formed_tick_line_of_the_sample_converts(real_data_dir: Path) -> None:
    ticks, converted = _convert_all(real_data_dir / "recordings")
    assert ticks > 30_000
    assert converted == ticks


def test_every_well_formed_tick_line_of_all_639_recordings_converts(
    full_real_data_dir: Path,
) -> None:
    ticks, converted = _convert_all(full_real_data_dir / "recordings")
    assert ticks > 200_000
    assert converted == ticks


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(sorted(LINE) + ["x"]),
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    )
    | st.builds(
        lambda k, v: dict(LINE, **{k: v}),
        st.sampled_from(sorted(LINE)),
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    )
)
def test_random_lines_never_raise(obj: dict[str, Any]) -> None:
    result = tick_line_reason(obj)
    assert isinstance(result, (str, GameUpdate))
    if isinstance(result, GameUpdate):
        assert result.price is not None and 0 <= result.price < float("inf")
        assert result.tick is not None and result.tick >= 0
