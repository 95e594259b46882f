"""The loss-limit figures a restarted daemon continues from: the journal's equity figures
(``JournaledEquity``) become the risk layer's ``SessionFigures`` unchanged, and so do the
``daily loss`` and ``drawdown`` that ``status`` reports."""

from __future__ import annotations

from pathlib import Path

from rugsd.daemon.journal import Journal, PositionSnapshot, RunStarted
from rugsd.daemon.journal.recovery import restore
from rugsd.daemon.runtime.startup import figures_of
from rugsd.risk.context import DAY_MS, SessionFigures

DAY0 = 1_700_006_400_000  # a UTC midnight
E8 = 10**8


def _snap(run: str, ts: int, balance: int, qty: int = 0, cost: int = 0, mark=None):
    return PositionSnapshot(run, ts, "g", 1, balance, qty, cost, 0, 10**9, None, None, None,
                            1 if qty else None, mark)


def test_restored_figures_are_the_journals_figures_and_report_the_same_losses(
    tmp_path: Path,
) -> None:
    # Arrange: two runs; the second marks a position up (peak 14e8), then down to 10e8
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.write(RunStarted("r1", DAY0 - 5000, "paper", "s", "b", "f", "{}", "c"))
        journal.write(RunStarted("r2", DAY0 + 1000, "paper", "s", "b", "f", "{}", "c"))
        journal.write(_snap("r1", DAY0 - 4000, 10 * E8))
        journal.write(_snap("r1", DAY0 - 2000, 9 * E8))  # carried into the day
        journal.write(_snap("r2", DAY0 + 2000, 8 * E8, qty=4 * E8, cost=4 * E8, mark=1.5))
        journal.write(_snap("r2", DAY0 + 3000, 9 * E8, qty=2 * E8, cost=E8))
        now = DAY0 + 10_000
        # Act
        state = restore(journal, tmp_path, now_ms=now)
        figures = figures_of(state, now)
        tomorrow = figures_of(restore(journal, tmp_path, now_ms=now + DAY_MS), now + DAY_MS)
    # Assert: field for field, and the figures status reports
    assert figures == SessionFigures(start_equity=14 * E8, peak_equity=14 * E8,
                                     day_start_equity=9 * E8, equity=10 * E8,
                                     day=now // DAY_MS)
    assert (figures.daily_loss, figures.drawdown) == (-1 * E8, 4 * E8)
    assert (tomorrow.day_start_equity, tomorrow.daily_loss) == (10 * E8, 0)
    with Journal(tmp_path / "empty.sqlite") as empty:  # nothing journaled: a fresh start
        assert figures_of(restore(empty, tmp_path, now_ms=now), now) is None
