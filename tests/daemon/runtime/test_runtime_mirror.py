"""Paper P&L against the simulator's own ledger: a standalone ``rugsd sim`` and a daemon
trading on it with ``--feed``; every order is mirrored to the simulator and the two
ledgers are compared game by game (``execution.mirror`` in the snapshot), then once more
from the outside (journal vs ``GET /ledger/rugsd-paper``)."""

from __future__ import annotations

from collections.abc import Callable

from daemon_proc import DaemonProc, SimProc, wait_for

from rugsd.daemon.game.accounting import sol_to_lamports

SPEED = 20  # a tick every 12.5 ms; see the report for what happens faster


def _quiet(d: DaemonProc) -> dict | None:
    """A snapshot in settlement cooldown, flat, nothing pending: no order can be on its way."""
    snap = d.snapshot()
    quiet = (snap["game"]["phase"] == "cooldown" and snap["account"]["qty"] == 0
             and snap["execution"]["pending_orders"] == 0)
    return snap if quiet else None


def _paper_balance(d: DaemonProc) -> int:
    return d.query("SELECT balance FROM positions ORDER BY id DESC LIMIT 1")[0][0]


def test_runtime_paper_pnl_equals_the_simulator_ledger(
    sims: Callable[..., SimProc], daemons: Callable[..., DaemonProc]
) -> None:
    sim = sims(SPEED, 18)  # short games: [96, 136, 58, 41, 33, 13, 351] ticks
    assert sim.get("/ledger/rugsd-paper")[0] == 404  # the player appears when we connect
    d = daemons(env={"RUGSD_STRATEGY__MAX_HOLD_TICKS": "3",
                     "RUGSD_RISK__MAX_ORDERS_PER_MINUTE": "1000"}, feed_url=sim.url)
    d.wait_ready()
    wait_for(lambda: d.snapshot()["execution"]["mirror"]["reconciled"] >= 1, 20,
             "a first comparison", d.alive)
    # from the outside: both ledgers at one quiet moment (the first game, joined in
    # flight, may legitimately differ: see the report)
    start = wait_for(lambda: _quiet(d), 10, "a quiet cooldown", d.alive)
    ledger0 = sim.get("/ledger/rugsd-paper")[1]["balance"]
    paper0 = sol_to_lamports(start["account"]["balance_sol"])  # maybe nothing journaled yet
    late0 = start["execution"]["mirror"]["late"]

    def compared() -> dict | None:
        m = d.snapshot()["execution"]["mirror"]
        return m if m["reconciled"] >= 4 and m["sent"] >= 6 else None

    wait_for(compared, 40, "four reconciled games", d.alive)
    end = wait_for(lambda: _quiet(d), 10, "a quiet cooldown", d.alive)
    mirror = end["execution"]["mirror"]
    assert d.stop() == 0

    assert mirror["mismatches"] == 0
    status, ledger = sim.get("/ledger/rugsd-paper")
    assert status == 200
    paper1 = _paper_balance(d)
    fills = d.query("SELECT count(*) FROM fills WHERE order_id IS NOT NULL")[0][0]
    print(f"mirror at x{SPEED}: {mirror}; paper balance {paper0} -> {paper1}, simulator "
          f"{ledger0} -> {ledger['balance']}")
    assert fills >= 6
    assert paper1 != paper0  # money moved between the two looks
    if mirror["late"] == late0:
        # every order in between filled at the same tick on both sides: exact agreement
        assert ledger["balance"] - ledger0 == paper1 - paper0
