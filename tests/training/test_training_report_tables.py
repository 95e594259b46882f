"""The retrain report's tables and its progress display: numbers, not JSON dumps; a
phase's bar ends at the count the phase reached."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import Progress

from rugsd.training.cli import _RichPhases
from rugsd.training.report_tables import data_table, kv_table


def test_kv_table_flattens_nested_figures_into_rows() -> None:
    lines = kv_table({"ppo": {"timesteps": 100083, "seconds": 12.345, "resumed": False},
                      "start": "behaviour cloning | rule"})
    assert lines[:2] == ["| figure | value |", "|---|---|"]
    assert "| ppo · timesteps | 100,083 |" in lines
    assert "| ppo · seconds | 12.35 |" in lines and "| ppo · resumed | no |" in lines
    assert "| start | behaviour cloning \\| rule |" in lines  # a pipe cannot break the row


def test_data_table_has_one_row_per_split_with_dates() -> None:
    lines = data_table({
        "train": {"games": 15343, "ticks": 3030973, "by_source": {"recording": 343, "sim": 15000},
                  "real_first_ts_ms": 1761763163600, "real_last_ts_ms": 1761837595724},
        "heldout": {"games": 743, "ticks": 140440, "by_source": {"recording": 143, "sim": 600},
                    "real_first_ts_ms": None, "real_last_ts_ms": None},
        "load": {"recording_games": 572},
    })
    text = "\n".join(lines)
    assert "| train | 15,343 | 3,030,973 | 343 | 15,000 | 2025-10-29 18:39 UTC |" in text
    assert "| heldout | 743 | 140,440 | 143 | 600 | — | — |" in text
    assert "| load · recording games | 572 |" in text


def test_a_phase_stopped_early_ends_its_bar_at_the_steps_done() -> None:
    progress = Progress(console=Console(file=io.StringIO()))
    phases = _RichPhases(progress)
    phases.start("ppo", 1)
    phases.update("ppo", 100_083, 256_183)  # the budget stopped PPO before the planned cap
    phases.done("ppo")
    phases.start("export", 3)  # a phase without updates ends complete
    phases.done("export")
    phases.stop()
    ppo, export = progress.tasks
    assert (ppo.completed, ppo.total) == (100_083, 100_083)
    assert export.completed == export.total == 3


def test_survival_plot_is_written_for_games_and_skipped_without(tmp_path) -> None:
    from rugsd.training.report_tables import survival_plot

    assert survival_plot(tmp_path, []) is None
    name = survival_plot(tmp_path, [3, 50, 120, 400])
    assert name is not None and (tmp_path / name).stat().st_size > 1000
