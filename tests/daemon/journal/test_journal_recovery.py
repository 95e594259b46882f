"""Recovery: account roll-forward, kill latch, risk state, session figures, run modes."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from rugsd.daemon.game import accounting as acc
from rugsd.daemon.journal import (
    FillRecord,
    Journal,
    KillEvent,
    OperatorCommand,
    PositionSnapshot,
    RiskEvent,
    RunStarted,
)
from rugsd.daemon.journal.recovery import (
    DAY_MS,
    KILL_LATCH_FILE,
    apply_fill,
    is_kill_latched,
    restore,
    roll_forward,
)

DAY0 = 1_700_006_400_000  # a UTC midnight (1_700_006_400_000 % DAY_MS == 0)


def _fill_record(fill: acc.Fill, order_id: str | None = None, ts: int = 0) -> FillRecord:
    return FillRecord(
        order_id, "r", ts, "g", fill.tick, fill.kind.value, fill.price, fill.qty, fill.amount,
        fill.realised, fill.balance_after,
    )  # fmt: skip


ops = st.lists(
    st.one_of(
        st.tuples(st.just("buy"), st.integers(10**6, 3 * 10**8), st.floats(0.01, 50)),
        st.tuples(st.just("sell"), st.sampled_from((10, 25, 50, 100)), st.floats(0.0, 50)),
        st.tuples(st.just("sidebet"), st.integers(10**6, 10**8), st.just(0.0)),
        st.tuples(st.just("tick"), st.just(0), st.just(0.0)),
        st.tuples(st.just("rug"), st.just(0), st.floats(0.0, 0.02)),
    ),
    max_size=40,
)


def _run_ops(account: acc.Account, script) -> tuple[acc.Account, list[acc.Fill]]:
    fills: list[acc.Fill] = []
    tick = 0
    for op, n, price in script:
        tick += 7
        if op == "buy":
            result = acc.buy(account, n, price, tick)
        elif op == "sell":
            result = acc.sell(account, n, price, tick)
        elif op == "sidebet":
            result = acc.place_sidebet(account, n, tick)
        elif op == "tick":
            account, lost = acc.settle_tick(account, tick)
            fills += [lost] if lost else []
            continue
        else:
            account, rug_fills = acc.settle_rug(account, tick, price)
            fills += rug_fills
            continue
        if not isinstance(result, acc.Reject):
            account, fill = result
            fills.append(fill)
    return account, fills


@settings(max_examples=200, deadline=None)
@given(script=ops, split=st.integers(0, 40))
def test_rolling_fills_forward_from_a_snapshot_reproduces_accounting(script, split) -> None:
    start = acc.open_account(10**9)
    mid, _ = _run_ops(start, script[:split])
    end, later = _run_ops(mid, script[split:])
    snap = PositionSnapshot.of(mid, run_id="r", ts_ms=0, game_id="g", tick=0)

    rolled, applied, consistent = roll_forward(snap.to_account(), map(_fill_record, later))

    assert consistent
    assert applied == len(later)
    assert rolled == end


def test_snapshot_round_trips_the_account_including_the_sidebet() -> None:
    account, _ = acc.buy(acc.open_account(10**9), 10**7, 1.3, 4)  # type: ignore[misc]
    account, _ = acc.place_sidebet(account, 10**6, 5)  # type: ignore[misc]
    snap = PositionSnapshot.of(account, run_id="r", ts_ms=1, game_id="g", tick=5)
    assert snap.to_account() == account
    assert (snap.sidebet_start, snap.sidebet_end, snap.sidebet_stake) == (5, 45, 10**6)


def test_roll_forward_skips_a_fill_the_snapshot_already_contains() -> None:
    account, fill = acc.buy(acc.open_account(10**9), 10**7, 1.0, 1)  # type: ignore[misc]
    rolled, applied, consistent = roll_forward(account, [_fill_record(fill)])
    assert (rolled, applied, consistent) == (account, 0, True)


def test_roll_forward_stops_at_an_inconsistent_fill() -> None:
    account = acc.open_account(10**9)
    _, fill = acc.buy(acc.open_account(5 * 10**8), 10**7, 1.0, 1)  # other balance
    rolled, applied, consistent = roll_forward(account, [_fill_record(fill)])
    assert (rolled, applied, consistent) == (account, 0, False)


def test_apply_fill_matches_sidebet_win() -> None:
    account, placed = acc.place_sidebet(acc.open_account(10**9), 10**6, 3)  # type: ignore[misc]
    won, fills = acc.settle_rug(account, 20, 0.01)
    after = apply_fill(apply_fill(acc.open_account(10**9), _fill_record(placed)),
                       _fill_record(fills[0]))  # fmt: skip
    assert after == won
    assert after.realised == 4 * 10**6


def test_kill_latch_rules() -> None:
    assert not is_kill_latched(None, None, False)
    assert is_kill_latched(None, None, True)  # the latch file alone latches
    assert is_kill_latched(100, None, False)
    assert is_kill_latched(100, 50, False)
    assert is_kill_latched(100, 100, False)  # a tie stays latched (safe side)
    assert not is_kill_latched(100, 150, False)


def _snap(run: str, ts: int, balance: int, qty: int = 0, cost: int = 0, mark=None):
    return PositionSnapshot(run, ts, "g", 1, balance, qty, cost, 0, 10**9, None, None, None,
                            1 if qty else None, mark)  # fmt: skip


def test_restore_on_an_empty_journal_is_a_clean_start(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        state = restore(journal, tmp_path / "run", now_ms=DAY0)
    assert state.account is None
    assert state.open_orders == []
    assert not state.kill_latched
    assert state.risk_state is None
    assert state.session.current_equity is None


def test_restore_reads_latch_file_even_without_kill_events(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / KILL_LATCH_FILE).write_text("killed by test\n")
    with Journal(tmp_path / "j.sqlite") as journal:
        assert restore(journal, run_dir, now_ms=DAY0).kill_latched


def test_kill_is_cleared_only_by_a_later_explicit_clear(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.write(KillEvent("r", 100, "tui", "panic"))
        journal.write(RiskEvent("r", 100, "active", "killed", "kill_switch", ""))
        latched = restore(journal, tmp_path, now_ms=DAY0).kill_latched
        journal.write(OperatorCommand("r", 150, "clear_kill", "cli", "refused: not confirmed"))
        still = restore(journal, tmp_path, now_ms=DAY0).kill_latched
        journal.write(OperatorCommand("r", 200, "clear_kill", "cli", "ok"))
        journal.write(RiskEvent("r", 200, "killed", "active", "operator_clear", ""))
        cleared = restore(journal, tmp_path, now_ms=DAY0)
        journal.write(KillEvent("r", 300, "auto", "daily_loss"))
        again = restore(journal, tmp_path, now_ms=DAY0).kill_latched
    assert (latched, still, cleared.kill_latched, again) == (True, True, False, True)
    assert cleared.risk_state == "active"


def test_session_figures_span_runs_and_the_utc_day(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.write(RunStarted("r1", DAY0 - 5000, "paper", "s", "b", "f", "{}", "c"))
        journal.write(RunStarted("r2", DAY0 + 1000, "paper", "s", "b", "f", "{}", "c"))
        journal.write(_snap("r1", DAY0 - 4000, 10**9))
        journal.write(_snap("r1", DAY0 - 2000, 9 * 10**8))  # carried into the day
        journal.write(_snap("r2", DAY0 + 2000, 8 * 10**8, qty=4 * 10**8, cost=4 * 10**8,
                            mark=1.5))  # equity 8e8 + 6e8  # fmt: skip
        journal.write(_snap("r2", DAY0 + 3000, 9 * 10**8, qty=2 * 10**8, cost=10**8))  # no mark
        state = restore(journal, tmp_path, now_ms=DAY0 + 10_000)
        next_day = restore(journal, tmp_path, now_ms=DAY0 + DAY_MS + 1)
    assert state.last_run_id == "r2"
    assert state.session.session_start_equity == 14 * 10**8
    assert state.session.peak_equity == 14 * 10**8
    assert state.session.current_equity == 10 * 10**8  # balance + cost basis
    assert state.session.day_start_equity == 9 * 10**8
    assert next_day.session.day_start_equity == 10 * 10**8  # carried from yesterday


def test_restore_by_mode_ignores_other_runs_accounts(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.write(RunStarted("live1", 1, "paper", "s", "b", "f", "{}", "c"))
        journal.write(RunStarted("bt1", 2, "backtest", "s", "b", "f", "{}", "c"))
        journal.write(_snap("live1", 10, 7 * 10**8))
        journal.write(_snap("bt1", 20, 3 * 10**8))
        paper = restore(journal, tmp_path, modes=("paper", "live"), now_ms=DAY0)
        anything = restore(journal, tmp_path, now_ms=DAY0)
    assert paper.account is not None and paper.account.balance == 7 * 10**8
    assert anything.account is not None and anything.account.balance == 3 * 10**8
