"""Markdown tables (not JSON dumps) for the retrain report's sidebet, training and data
sections, and its survival plot."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any


def _value(key: str, value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "—"}[value]
    if isinstance(value, int) and key.endswith("ts_ms"):
        return datetime.fromtimestamp(value / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(key, v) for v in value) + "]"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _rows(data: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, str]]:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from _rows(value, f"{name} · ")
        else:
            yield name, _value(str(key), value)


def kv_table(data: dict[str, Any], what: str = "figure") -> list[str]:
    """A two-column Markdown table; nested keys read ``a · b``."""
    lines = [f"| {what} | value |", "|---|---|"]
    lines += [f"| {k.replace('_', ' ')} | {v} |" for k, v in _rows(data)]
    return lines


def data_table(data_range: dict[str, Any]) -> list[str]:
    """One row per split (games, ticks, real / simulated games, real time range), then the
    loading counts."""
    lines = ["| split | games | ticks | real games | simulated games | real games from | to |",
             "|---|---|---|---|---|---|---|"]
    for split in ("train", "validation", "heldout"):
        s = data_range.get(split)
        if not isinstance(s, dict):
            continue
        by = s.get("by_source", {})
        real = by.get("recording", 0) + by.get("dataset", 0)
        lines.append(f"| {split} | {_value('', s.get('games'))} | {_value('', s.get('ticks'))} "
                     f"| {real:,} | {by.get('sim', 0):,} | "
                     f"{_value('ts_ms', s.get('real_first_ts_ms'))} | "
                     f"{_value('ts_ms', s.get('real_last_ts_ms'))} |")
    rest = {k: v for k, v in data_range.items() if k not in ("train", "validation", "heldout")}
    if rest:
        lines += ["", *kv_table(rest, "loading")]
    return lines


def survival_plot(folder: Path, rug_ticks: list[int]) -> str | None:
    """Observed P(not rugged by tick t) of ``rug_ticks`` against the committed geometric
    law (``rugsd report --plots``' own plot); the file name, None when there is no game."""
    from rugsd.daemon.audit.fairness import write_survival_plot

    path, _note = write_survival_plot([SimpleNamespace(residual=t) for t in rug_ticks], folder)
    return path.name if path is not None else None
