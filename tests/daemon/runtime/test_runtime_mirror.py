"""Paper P&L against the simulator's own ledger: a standalone ``rugsd sim`` and a daemon
trading on it with ``--feed``; every order is mirrored to the simulator and the two
ledgers are compared game by game (``execution.mirror`` in the snapshot), then once more
from the outside (journal vs ``GET /ledger/rugsd-paper``)."""

from __future__ import annotations

from collections.abc import Callable

from daemon_proc import DaemonProc, SimProc, wait_for

SPEED = 20  # a tick every 12.5 ms; see the report for what happens faster


def _quiet(d: DaemonProc) -> bool:
    """Settlement cooldown and flat: no order can be on its way."""
    snap = d.snapshot()
    return (snap["game"]["phase"] == "cooldown" and snap["account"]["qty"] == 0
            and snap["execution"]["pending_orders"] == 0)


def test_runtime_paper_pnl_equals_the_simulator_ledger(
    sims: Callable[..., SimProc], daemons: Callable[..., DaemonProc]
) -> None:
    sim = sims(SPEED, 4)  # short games: [27, 13, 40, 135, 45, 18, ...] ticks
    assert sim.get("/ledger/rugsd-paper")[0] == 404  # the player appears when we connect
    d = daemons(env={"RUGSD_STRATEGY__MAX_HOLD_TICKS": "3",
                     "RUGSD_RISK__MAX_ORDERS_PER_MINUTE": "1000"}, feed_url=sim.url)
    d.wait_ready()
    assert d.snapshot()["execution"]["mirror"] is not None

    def compared() -> dict | None:
        m = d.snapshot()["execution"]["mirror"]
        return m if m["reconciled"] >= 4 and m["sent"] >= 6 else None

    mirror = wait_for(compared, 40, "four reconciled games", d.alive)
    wait_for(lambda: _quiet(d), 10, "a quiet cooldown", d.alive)
    mirror = d.snapshot()["execution"]["mirror"]
    assert d.stop() == 0

    assert mirror["mismatches"] == 0
    status, ledger = sim.get("/ledger/rugsd-paper")
    assert status == 200
    balance, qty = d.query("SELECT balance, qty FROM positions ORDER BY id DESC LIMIT 1")[0]
    fills = d.query("SELECT count(*) FROM fills WHERE order_id IS NOT NULL")[0][0]
    print(f"mirror at x{SPEED}: {mirror}; paper balance {balance}, simulator {ledger['balance']}")
    assert fills >= 6
    assert ledger["qty"] == qty
    if mirror["late"] == 0:
        # every order filled at the same tick on both sides: the totals agree exactly
        assert ledger["balance"] == balance
        assert ledger["realised"] == balance - 10_000_000_000
