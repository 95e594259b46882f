"""The pure protocol module: request parsing (property-based), encoding, tolerant snapshots."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rugsd.daemon.control.protocol import (
    MAX_REQUEST_BYTES,
    PROTOCOL_VERSION,
    Command,
    ErrorKind,
    RequestError,
    encode_line,
    example_snapshot,
    parse_request,
    parse_snapshot,
    request_line,
    socket_path,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_protocol_parse_request_never_crashes_on_arbitrary_bytes(raw):
    try:
        req = parse_request(raw)
    except RequestError as err:
        assert str(err) and "\n" not in str(err)
        assert isinstance(err.kind, ErrorKind)
    else:
        assert isinstance(req.cmd, Command)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "cmd", "args", "who", "v", "x"]), json_values))
def test_protocol_parse_request_never_crashes_on_arbitrary_objects(obj):
    try:
        parse_request(json.dumps(obj).encode())
    except RequestError as err:
        assert "\n" not in str(err)


@settings(max_examples=200, deadline=None)
@given(
    cmd=st.sampled_from([c for c in Command if c is not Command.ARM]),
    who=st.text(max_size=300),
    rid=st.one_of(st.integers(), st.text(max_size=10)),
)
def test_protocol_request_line_round_trips(cmd, who, rid):
    req = parse_request(request_line(cmd, None, who, rid))
    assert (req.cmd, req.id) == (cmd, rid)
    assert len(req.who) <= 120 and all(ch.isprintable() for ch in req.who)


def test_protocol_args_are_validated_per_command():
    assert parse_request(request_line("arm", {"token": "AB12CD"})).args == {"token": "AB12CD"}
    assert parse_request(request_line("kill")).args == {"reason": "operator"}
    assert parse_request(request_line("reload-model")).args == {}
    with pytest.raises(RequestError, match="bad args for resume"):
        parse_request(request_line("resume", {"reason": "x"}))
    with pytest.raises(RequestError, match="bad args for arm: token"):
        parse_request(request_line("arm", {"token": ""}))


def test_protocol_oversized_request_is_refused():
    with pytest.raises(RequestError) as info:
        parse_request(b"{" + b" " * MAX_REQUEST_BYTES + b"}")
    assert info.value.kind is ErrorKind.TOO_LONG


def test_protocol_encode_line_is_strict_json_even_with_non_finite_floats():
    line = encode_line({"a": float("inf"), "b": [1.0, float("nan")], "c": {"d": -float("inf")}})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line, parse_constant=lambda c: pytest.fail(c)) == {
        "a": None, "b": [1.0, None], "c": {"d": None}}


def test_protocol_example_snapshot_validates_without_problems():
    snap, problems = parse_snapshot(example_snapshot())
    assert problems == []
    assert snap.v == PROTOCOL_VERSION and snap.risk.state == "ACTIVE"
    assert len(snap.game.prices) == 121 and snap.account.sidebet.ticks_left == 20


def test_protocol_parse_snapshot_tolerates_missing_and_bad_sections():
    raw = example_snapshot()
    raw["risk"] = {"state": "killed", "kill_latched": True}  # lower case, no flags/limits
    raw["account"] = {"balance_sol": "lots"}  # bad type: whole section dropped
    raw["decisions"] = [raw["decisions"][0], {"tick": "x"}, "junk"]  # bad items dropped
    raw["decision_log"] = [{"repeat": "many"}, raw["decision_log"][0]]
    del raw["feed"]
    raw["game"]["tick"] = None
    snap, problems = parse_snapshot(raw)
    assert snap.risk.state == "KILLED" and snap.risk.kill_latched is True
    assert snap.risk.limits == [] and snap.risk.flags.operator_paused is False
    assert snap.account.balance_sol is None
    assert len(snap.decisions) == 1 and snap.decisions[0].intent == "wait"
    assert [d.intent for d in snap.decision_log] == ["buy 0.010"]
    assert snap.feed.connected is False and snap.game.tick is None
    assert {p.split(":")[0] for p in problems} == {"account", "decisions", "decision_log"}


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(list(example_snapshot())), json_values))
def test_protocol_parse_snapshot_never_raises(data):
    snap, problems = parse_snapshot(data)
    assert snap.type == "snapshot" and isinstance(problems, list)


def test_protocol_socket_lives_in_the_run_dir(tmp_path):
    assert socket_path(tmp_path) == tmp_path / "run" / "control.sock"
