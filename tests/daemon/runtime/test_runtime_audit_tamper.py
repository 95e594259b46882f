"""A cheating venue is caught live: a real ``rugsd run --paper`` connected over Socket.IO to
a real ``rugsd sim --tamper MODE`` on loopback audits every game it watched, finds the lie
within a game, goes HALTED with reason ``venue_integrity`` and sends no further entry.
The same daemon against the honest simulator verifies every game and keeps trading."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from daemon_proc import DaemonProc, SimProc, rugsd, wait_for

ENTRY = "('buy', 'sidebet')"
EXPECTED = {"price": "path_mismatch", "seed": "hash_mismatch", "late-rug": "path_mismatch"}


def _halt_event(d: DaemonProc) -> tuple | None:
    rows = d.query("SELECT ts_ms, new_state, detail FROM risk_events "
                   "WHERE reason = 'venue_integrity' ORDER BY id LIMIT 1")
    return rows[0] if rows else None


@pytest.mark.parametrize("mode", ["price", "seed", "late-rug"])
def test_runtime_tampering_simulator_is_caught_and_trading_halts(
    daemons: Callable[..., DaemonProc], sims: Callable[..., SimProc], mode: str
) -> None:
    # Arrange: a cheating simulator and a paper daemon that buys in every presale
    sim = sims(20, 18, "--tamper", mode)
    d = daemons(feed_url=sim.url)
    d.wait_ready()

    # Act: let it watch games until an audit finds the lie
    halt_ts, new_state, detail = wait_for(lambda: _halt_event(d), 40,
                                          "a venue_integrity halt", d.alive)

    # Assert: the mismatch is journaled with its evidence, the state is HALTED
    assert new_state == "halted"
    audits = d.query("SELECT game_id, result, first_tick, expected, observed, commitment, "
                     "server_seed FROM audits WHERE result != 'verified' ORDER BY id")
    assert audits, "the mismatch has its own audit record"
    game_id, result, first_tick, expected, observed, commitment, seed = audits[0]
    assert result == EXPECTED[mode]
    assert game_id in detail
    if mode == "seed":
        assert commitment and seed and first_tick is None
    else:
        assert first_tick is not None and observed is not None
        if mode == "price":
            assert expected is not None and expected != observed
        else:  # late rug: the venue showed a price where the seed says the game is over
            assert expected is None
    snap = d.snapshot()
    assert snap["risk"]["state"] == "HALTED"
    assert snap["risk"]["flags"]["venue_integrity"] is True
    assert snap["audit"]["hash_mismatch"] + snap["audit"]["path_mismatch"] >= 1
    assert snap["audit"]["last_mismatch"]["game_id"]

    # the next entry the strategy asks for is refused, and no entry is ever sent again
    wait_for(lambda: d.query(
        "SELECT count(*) FROM decisions WHERE ts_ms > ? AND intent_action IN "
        f"{ENTRY} AND verdict = 'refused' AND reason = 'state_halted'", (halt_ts,))[0][0],
        30, "an entry refused after the halt", d.alive)
    assert d.query(f"SELECT count(*) FROM orders WHERE action IN {ENTRY} AND ts_ms > ?",
                   (halt_ts,))[0][0] == 0

    # `rugsd status` says so, in words and in JSON
    status = rugsd("status", "--data-dir", str(d.data_dir))
    assert status.returncode == 0, status.stderr
    assert "VENUE INTEGRITY" in status.stdout and "LAST MISMATCH" in status.stdout
    report = json.loads(rugsd("status", "--json", "--data-dir", str(d.data_dir)).stdout)
    assert report["trading_state"] == "HALTED"


def test_runtime_resume_lifts_a_venue_integrity_halt(
    daemons: Callable[..., DaemonProc], sims: Callable[..., SimProc]
) -> None:
    sim = sims(20, 18, "--tamper", "seed")
    d = daemons(feed_url=sim.url)
    d.wait_ready()
    wait_for(lambda: _halt_event(d), 40, "a venue_integrity halt", d.alive)

    done = rugsd("resume", "--data-dir", str(d.data_dir))

    assert done.returncode == 0, done.stderr
    assert "ACTIVE" in done.stdout
    rows = d.query("SELECT reason FROM risk_events WHERE reason = 'operator_resume'")
    assert rows


def test_runtime_honest_simulator_games_all_verify(
    daemons: Callable[..., DaemonProc], sims: Callable[..., SimProc]
) -> None:
    sim = sims(20, 18)
    d = daemons(feed_url=sim.url)
    d.wait_ready()

    wait_for(lambda: d.query("SELECT count(*) FROM audits")[0][0] >= 3, 40,
             "three audited games", d.alive)

    results = [r for (r,) in d.query("SELECT result FROM audits")]
    assert set(results) == {"verified"}, results
    assert _halt_event(d) is None
    assert d.snapshot()["audit"]["verified"] >= 3
    assert d.query(f"SELECT count(*) FROM orders WHERE action IN {ENTRY}")[0][0] >= 1
