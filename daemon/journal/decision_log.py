"""One line of the decision log: a ``DecisionRecord`` as canonical JSON.

The line is ``json.dumps(fields, separators=(",", ":"), sort_keys=True)`` with the raw
feature bytes as hex; its SHA-256 over a run is the decision-log hash that proves two
paths decided alike. ``decision_line`` writes that exact text without building a dict
and running the generic encoder (a replay writes one line per decision, so the generic
path was a sixth of a replay's time); any value of an unexpected type takes the generic
path. ``tests/daemon/journal/test_journal_decision_log.py`` proves both equal.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _str
from math import isnan

from rugsd.daemon.journal.records import DecisionRecord

_FIELDS = DecisionRecord.__slots__
_float_repr = float.__repr__


def _num(x: float) -> str:
    """A float as ``json.dumps`` writes it (``NaN``, ``Infinity`` for the non-finite)."""
    if x - x == 0.0:  # finite
        return _float_repr(x)
    if isnan(x):
        return "NaN"
    return "Infinity" if x > 0 else "-Infinity"


def _opt_float(x: object) -> str | None:
    if x is None:
        return "null"
    if type(x) is float:
        return _num(x)
    return None


def _opt_str(x: object) -> str | None:
    if x is None:
        return "null"
    if type(x) is str:
        return _str(x)
    return None


def _floats(xs: object) -> str | None:
    if xs is None:
        return "null"
    if type(xs) is not tuple:
        return None
    try:
        text = ",".join(map(_float_repr, xs))  # TypeError for anything but a float
    except TypeError:
        return None
    if "n" in text:  # "nan" / "inf": json spells them NaN / Infinity
        text = ",".join(map(_num, xs))
    return "[" + text + "]"


def generic_decision_line(record: DecisionRecord) -> str:
    """The decision-log line through ``json.dumps`` (the definition)."""
    data = {
        name: (value.hex() if isinstance(value, bytes) else value)
        for name, value in zip(_FIELDS, (getattr(record, s) for s in _FIELDS), strict=True)
    }
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def decision_line(record: DecisionRecord) -> str:
    """One deterministic JSON line of the decision log (= ``generic_decision_line``)."""
    r = record
    feats = r.features
    if type(feats) is bytes:
        features = '"' + feats.hex() + '"'
    elif feats is None:
        features = "null"
    else:
        return generic_decision_line(r)
    probs = _floats(r.action_probs)
    p_rug = _opt_float(r.p_rug)
    order_id = _opt_str(r.order_id)
    price = r.price
    if (probs is None or p_rug is None or order_id is None or type(price) is not float
            or type(r.seq) is not int or type(r.ts_ms) is not int or type(r.tick) is not int
            or type(r.intent_amount) is not int or type(r.intent_percentage) is not int
            or type(r.run_id) is not str or type(r.game_id) is not str
            or type(r.phase) is not str or type(r.features_hash) is not str
            or type(r.intent_action) is not str or type(r.reason) is not str
            or type(r.verdict) is not str or type(r.trading_state) is not str):
        return generic_decision_line(r)
    # keys in sorted order, as sort_keys=True writes them
    return "".join((
        '{"action_probs":', probs,
        ',"features":', features,
        ',"features_hash":', _str(r.features_hash),
        ',"game_id":', _str(r.game_id),
        ',"intent_action":', _str(r.intent_action),
        ',"intent_amount":', str(r.intent_amount),
        ',"intent_percentage":', str(r.intent_percentage),
        ',"order_id":', order_id,
        ',"p_rug":', p_rug,
        ',"phase":', _str(r.phase),
        ',"price":', _num(price),
        ',"reason":', _str(r.reason),
        ',"run_id":', _str(r.run_id),
        ',"seq":', str(r.seq),
        ',"tick":', str(r.tick),
        ',"trading_state":', _str(r.trading_state),
        ',"ts_ms":', str(r.ts_ms),
        ',"verdict":', _str(r.verdict),
        "}",
    ))
