"""The decision-log line written by hand equals ``json.dumps``'s, for any record."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from rugsd.daemon.journal.decision_log import decision_line, generic_decision_line
from rugsd.daemon.journal.records import DecisionRecord

_text = st.text(max_size=12)  # any unicode: escapes must match json's ensure_ascii
_float = st.floats(allow_nan=True, allow_infinity=True)
_int = st.integers(min_value=-(2**70), max_value=2**70)
_maybe = st.one_of  # shorthand


def _records():
    return st.builds(
        DecisionRecord,
        run_id=_text, seq=_int, ts_ms=_int, game_id=_text, tick=_int, phase=_text,
        price=_maybe(_float, _int),
        features_hash=_text,
        features=_maybe(st.none(), st.binary(max_size=64),
                        st.tuples(_float, _float), st.lists(_float, max_size=3)),
        action_probs=_maybe(st.none(), st.lists(_float, max_size=9).map(tuple),
                            st.lists(_maybe(_float, _int), max_size=3).map(tuple)),
        p_rug=_maybe(st.none(), _float, _int),
        intent_action=_text, intent_amount=_maybe(_int, st.booleans()),
        intent_percentage=_int, verdict=_text, reason=_text,
        order_id=_maybe(st.none(), _text), trading_state=_text,
    )


@settings(max_examples=400, deadline=None)
@given(_records())
def test_decision_line_equals_the_json_definition(record: DecisionRecord) -> None:
    assert decision_line(record) == generic_decision_line(record)


def test_decision_line_reads_back_as_the_record_fields() -> None:
    record = DecisionRecord("r\u00e9", 3, 1700, "g", 7, "active", 1.25, "ab", b"\x00\xff",
                            (0.5, float("nan")), None, "buy", 10, 0, "order", "", "o-1",
                            "active")
    line = decision_line(record)
    back = json.loads(line)
    assert back["features"] == "00ff" and back["run_id"] == "r\u00e9"
    assert back["action_probs"][0] == 0.5 and math.isnan(back["action_probs"][1])
    assert list(back) == sorted(back)
