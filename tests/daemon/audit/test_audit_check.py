"""``audit_game`` on real simulator payloads: honest games verify, every kind of lie is a
mismatch with its evidence, and what cannot be checked says why."""

from __future__ import annotations

import math
from dataclasses import replace

from audit_helpers import audits_of, make_room, room_updates, step_updates
from hypothesis import given, settings
from hypothesis import strategies as st

from rugsd.daemon.audit.check import audit_game, audit_observed
from rugsd.daemon.audit.model import AuditRequest, AuditResult, Observed
from rugsd.daemon.audit.observe import collect
from rugsd.daemon.events import FinishedGame, GameUpdate
from rugsd.daemon.game.engine import generate_game, seed_hash
from rugsd.daemon.game.rules import RUG_PRICE_MAX_FRACTION
from rugsd.daemon.protocol.parse import EventParser

HONEST = room_updates(3)


def _game(updates: list[GameUpdate], n: int = 0) -> tuple[str, list[GameUpdate], FinishedGame]:
    """Game ``n`` of ``updates``: its id, its own updates, its revealed record."""
    ids = list(dict.fromkeys(u.game_id for u in updates))
    gid = ids[n]
    own = [u for u in updates if u.game_id == gid]
    record = next(g for u in updates for g in u.history if g.game_id == gid)
    return gid, own, record


def _audit(own: list[GameUpdate], record: FinishedGame | None, gid: str):
    return audit_game(AuditRequest(gid, 0, tuple(own), record))


def test_honest_games_verify_with_the_seed_rug_tick() -> None:
    audits = audits_of(HONEST)
    assert [a.result for a in audits] == [AuditResult.VERIFIED] * 3
    for a in audits:
        outcome = generate_game(a.server_seed, a.game_id, a.version)
        assert a.rug_tick == outcome.rug_tick == a.observed_rug_tick
        assert a.commitment == seed_hash(a.server_seed)
        assert a.observed.entry_tick == 0  # watched from its cooldown
        assert a.observed.informative == outcome.rug_tick  # ticks 1..rug


def test_a_tampered_price_is_a_path_mismatch_at_that_tick() -> None:
    audits = audits_of(room_updates(2, tamper="price"))
    for a in audits:
        assert a.result is AuditResult.PATH_MISMATCH
        outcome = generate_game(a.server_seed, a.game_id, a.version)
        k = len(outcome.prices) // 2
        assert a.first.tick == k
        assert a.first.expected == outcome.prices[k]
        assert a.first.observed == outcome.prices[k] * 1.001
        assert "live" in a.first.source and "history" in a.first.source


def test_a_revealed_seed_that_is_not_the_committed_one_is_a_hash_mismatch() -> None:
    audits = audits_of(room_updates(2, tamper="seed"))
    for a in audits:
        assert a.result is AuditResult.HASH_MISMATCH
        assert a.commitment != seed_hash(a.server_seed)
        assert a.seed_hash == seed_hash(a.server_seed)
        assert "committed hash" in a.detail


def test_a_late_rug_is_a_path_mismatch_at_the_seed_rug_tick() -> None:
    audits = audits_of(room_updates(2, tamper="late-rug"))
    for a in audits:
        assert a.result is AuditResult.PATH_MISMATCH
        assert a.first.tick == a.rug_tick
        assert a.first.expected is None  # the seed says the game is over there
        assert a.observed_rug_tick == a.rug_tick + 3
        assert f"the seed rugs at tick {a.rug_tick}" in a.first.what


@settings(max_examples=25)
@given(st.data())
def test_one_ulp_off_on_one_live_tick_is_caught(data: st.DataObject) -> None:
    gid, own, record = _game(HONEST)
    live = [i for i, u in enumerate(own) if u.active and not u.rugged and u.tick > 0]
    i = data.draw(st.sampled_from(live))
    bad = own[i]
    own = list(own)
    own[i] = replace(bad, price=math.nextafter(bad.price, math.inf))
    a = _audit(own, record, gid)
    assert a.result is AuditResult.PATH_MISMATCH
    assert a.first.tick == bad.tick
    assert a.first.source == "live"
    assert a.first.expected == bad.price and a.first.observed == own[i].price


def test_missed_ticks_are_not_observed_and_not_compared() -> None:
    gid, own, record = _game(HONEST)
    # a gap: drop ticks 5..30 and keep partialPrices out of it too; no history prices
    gap = [replace(u, partial_prices=()) for u in own if not (u.active and 5 <= (u.tick or 0) <= 30)]
    a = _audit(gap, replace(record, prices=None), gid)
    assert a.result is AuditResult.VERIFIED
    seen = {c.tick for c in a.observed.claims}
    assert seen.isdisjoint(range(5, 31))


def test_a_mid_game_connect_is_audited_from_its_backfill() -> None:
    room = make_room()
    parser = EventParser()
    while not (room.phase.value == "active" and room.tick >= 20):
        step_updates(room, parser)
    join = parser.parse("gameStateUpdate", [room.snapshot()], room.now_ms)
    later = []
    while room.games_played < 1:
        later.extend(step_updates(room, parser))
    gid = join.game_id
    own = [join] + [u for u in later if u.game_id == gid]
    record = next(g for u in later for g in u.history if g.game_id == gid)
    a = _audit(own, replace(record, prices=None), gid)
    assert a.result is AuditResult.VERIFIED
    assert a.observed.entry_tick == 20
    assert a.observed.counts["backfill"] == 21  # ticks 0..20 from the connect snapshot


def test_duplicates_merge_and_a_conflicting_repeat_is_a_mismatch() -> None:
    gid, own, record = _game(HONEST)
    u = next(x for x in own if x.active and x.tick == 10)
    same = _audit([*own, u], record, gid)
    assert same.result is AuditResult.VERIFIED
    assert same.observed.counts["duplicates"] > 0
    other = _audit([*own, replace(u, price=u.price * 2)], record, gid)
    assert other.result is AuditResult.PATH_MISMATCH and other.first.tick == 10


def _rug_variant(price: float | None = None, tick_shift: int = 0):
    gid, own, record = _game(HONEST)
    out = []
    for u in own:
        if u.rugged:
            u = replace(u, price=u.price if price is None else price,
                        tick=u.tick + tick_shift, partial_prices=())
        out.append(u)
    return _audit(out, replace(record, prices=None), gid)


def test_the_rug_price_must_stay_within_two_percent_of_the_previous_price() -> None:
    gid, _own, record = _game(HONEST)
    outcome = generate_game(record.server_seed, gid, "v3")
    bound = RUG_PRICE_MAX_FRACTION * min(outcome.prices[-1], 1.0)
    assert _rug_variant(bound).result is AuditResult.VERIFIED
    assert _rug_variant(0.0).result is AuditResult.VERIFIED
    high = _rug_variant(bound * 1.01)
    assert high.result is AuditResult.PATH_MISMATCH
    assert high.first.tick == outcome.rug_tick and high.first.expected == bound


def test_an_early_rug_is_a_mismatch() -> None:
    a = _rug_variant(tick_shift=-1)
    assert a.result is AuditResult.PATH_MISMATCH
    assert a.first.tick == a.rug_tick - 1


def test_a_commitment_that_changes_during_the_game_is_a_hash_mismatch() -> None:
    gid, own, record = _game(HONEST)
    own = list(own)
    own[-1] = replace(own[-1], server_seed_hash="0" * 64)
    a = _audit(own, record, gid)
    assert a.result is AuditResult.HASH_MISMATCH
    assert "changed during the game" in a.detail


def test_what_cannot_be_checked_says_why() -> None:
    gid, own, record = _game(HONEST)
    never = _audit(own, None, gid)
    assert never.result is AuditResult.UNVERIFIABLE and "never revealed" in never.detail
    odd = _audit([replace(u, version="v9") for u in own], record, gid)
    assert odd.result is AuditResult.UNVERIFIABLE and "unknown game version" in odd.detail
    cooldown_only = [u for u in own if not u.active and not u.rugged]
    few = _audit(cooldown_only, replace(record, prices=None), gid)
    assert few.result is AuditResult.UNVERIFIABLE and "too few ticks" in few.detail


def test_the_journaled_observations_recompute_to_the_same_verdict() -> None:
    for updates in (HONEST, room_updates(1, tamper="price")):
        gid, own, record = _game(updates)
        a = _audit(own, record, gid)
        back = Observed.from_json(gid, a.observed.to_json())
        assert back == a.observed
        again = audit_observed(back, record.server_seed, record.server_seed_hash, record.version)
        assert (again.result, again.first, again.detail) == (a.result, a.first, a.detail)


def test_collect_ignores_other_games_and_post_rug_repeats() -> None:
    gid, own, record = _game(HONEST)
    other = _game(HONEST, 1)[1]
    rug = next(u for u in own if u.rugged)
    seen = collect(gid, (*own, *other, replace(rug, tick=rug.tick + 2)), record)
    assert seen.counts["post_rug"] >= 1
    assert max(c.tick for c in seen.claims) == rug.tick
