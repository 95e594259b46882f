"""The sqlite journal: WAL, round trips of every record type, idempotent orders, batching."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rugsd.daemon.config import load_settings
from rugsd.daemon.game import accounting as acc
from rugsd.daemon.journal import (
    DecisionRecord,
    FillRecord,
    GameRecord,
    Journal,
    KillEvent,
    OperatorCommand,
    OrderRecord,
    PositionSnapshot,
    RiskEvent,
    RunStarted,
    features_hash,
    open_journal,
)
from rugsd.daemon.journal.records import features_bytes, features_from_bytes

FEATS = (0.5, -1.25, 3.0, 1e-3)  # 1e-3 is not float32-exact: read back as float32


def _decision(seq: int, **kw) -> DecisionRecord:
    base = {
        "run_id": "r1", "seq": seq, "ts_ms": 1000 + seq, "game_id": "g1", "tick": seq,
        "phase": "active", "price": 1.25, "features_hash": features_hash(FEATS),
        "features": FEATS, "action_probs": (0.1, 0.2, 0.7), "p_rug": 0.05,
        "intent_action": "buy", "intent_amount": 10**7, "intent_percentage": 0,
        "verdict": "order", "reason": "", "order_id": f"o{seq}", "trading_state": "active",
    }  # fmt: skip
    base.update(kw)
    return DecisionRecord(**base)


def _order(order_id: str = "o1", status: str = "sent") -> OrderRecord:
    return OrderRecord(order_id, "r1", 1000, "g1", 3, "buy", 10**7, 0, status, "")


SAMPLES = [
    RunStarted("r1", 1000, "paper", "onnx", "v7", "abc123", '{"a": 1}', "deadbeef"),
    FillRecord("o1", "r1", 1001, "g1", 3, "buy", 1.1, 9090909, 10**7, 0, 990000000),
    FillRecord(None, "r1", 1002, "g1", 9, "rug_sell", 0.004, 9090909, 36363, -9963637, 990036363),
    PositionSnapshot("r1", 1003, "g1", 4, 990000000, 9090909, 10**7, 0, 10**9, 2, 42, 10**6, 3),
    PositionSnapshot("r1", 1004, "g1", 5, 10**9, 0, 0, 0, 10**9, None, None, None, None, 1.5),
    RiskEvent("r1", 1005, "active", "halted", "stale_feed", "no tick for 2.1 s"),
    KillEvent("r1", 1006, "cli", "operator"),
    OperatorCommand("r1", 1007, "kill", "tui", "ok"),
    GameRecord("r1", "g1", 120, 3.5, "seedhex", 1008),
    GameRecord("r1", "g2", 7, 1.1, None, 1009),
]


def test_journal_uses_wal_mode(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        mode = journal.conn.execute("PRAGMA journal_mode").fetchone()[0]
        sync = journal.conn.execute("PRAGMA synchronous").fetchone()[0]
    other = sqlite3.connect(tmp_path / "j.sqlite")
    assert mode == "wal"
    assert sync == 1  # NORMAL
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persistent
    other.close()


def test_every_table_exists_with_strict_types(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        names = set(journal.db.table_names())
        with pytest.raises(sqlite3.IntegrityError):  # STRICT: text in an INTEGER column
            journal.conn.execute("INSERT INTO kill_events (run_id, ts_ms, source) VALUES "
                                 "('r', 'not a number', 'cli')")  # fmt: skip
    assert {"runs", "decisions", "orders", "fills", "positions", "risk_events",
            "kill_events", "operator_commands", "games"} <= names  # fmt: skip


@pytest.mark.parametrize("record", SAMPLES, ids=lambda r: type(r).__name__)
def test_record_round_trips_through_a_reopened_journal(tmp_path: Path, record) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.write(record)
    with Journal(tmp_path / "j.sqlite") as journal:
        back = journal.records(type(record))
    assert back == [record]


def test_decision_round_trip_reads_features_as_float32(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.write(_decision(0))
        journal.write(_decision(1, features=features_bytes(FEATS), action_probs=None,
                                p_rug=None, order_id=None))  # fmt: skip
    with Journal(tmp_path / "j.sqlite") as journal:
        first, second = journal.records(DecisionRecord)
    as_f32 = features_from_bytes(features_bytes(FEATS))
    assert as_f32 != FEATS  # proves the float32 narrowing is real
    assert first == _decision(0, features=as_f32)
    assert second == _decision(1, features=as_f32, action_probs=None, p_rug=None, order_id=None)


def test_order_round_trip_and_status_update(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.write(_order())
        assert journal.mark_order("o1", "filled", "at 1.1", ts_ms=2000)
        assert not journal.mark_order("nope", "filled")
        assert not journal.mark_order("o1", "exploded")  # bad status: refused, counted
        assert journal.counters["bad_records"] == 1
        assert journal.records(OrderRecord) == [replace(_order(status="filled"), detail="at 1.1")]


def test_second_order_intent_with_same_id_is_refused_and_not_duplicated(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        first = journal.record_order_intent(_order())
        journal.mark_order("o1", "filled")
        second = journal.record_order_intent(_order())
        rows = journal.conn.execute("SELECT status FROM orders WHERE order_id = 'o1'").fetchall()
    assert first is True
    assert second is False
    assert rows == [("filled",)]  # the retry neither duplicated nor reset the order


def test_order_intent_is_stored_as_sent_whatever_status_it_carries(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        assert journal.record_order_intent(_order(status="filled"))
        assert journal.records(OrderRecord)[0].status == "sent"


def test_terminal_order_record_updates_existing_row(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.write(_order())
        journal.write(_order(status="rejected"))
        assert [o.status for o in journal.records(OrderRecord)] == ["rejected"]


def test_decisions_are_batched_until_batch_size(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    reader = None
    with Journal(path, batch_size=10, flush_interval_ms=10**9) as journal:
        reader = sqlite3.connect(path)
        for i in range(9):
            journal.write(_decision(i))
        before = reader.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]
        journal.write(_decision(9))
        after = reader.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]
    reader.close()
    assert (before, after) == (0, 10)


def test_decisions_flush_when_the_batch_is_older_than_the_interval(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    now = [100.0]  # an injected clock, seconds
    with Journal(path, batch_size=1000, flush_interval_ms=500, clock=lambda: now[0]) as journal:
        reader = sqlite3.connect(path)
        journal.write(_decision(0))
        now[0] += 0.4
        journal.write(_decision(1))
        before = reader.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]
        now[0] += 0.1
        journal.write(_decision(2))
        after = reader.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]
        reader.close()
    assert (before, after) == (0, 3)


def test_order_intent_commits_pending_decisions_with_it(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path, batch_size=1000, flush_interval_ms=10**9) as journal:
        reader = sqlite3.connect(path)
        journal.write(_decision(0))
        journal.record_order_intent(_order("o0"))
        seen = reader.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]
        reader.close()
    assert seen == 1


def test_keep_features_false_drops_the_vector_but_keeps_the_hash(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite", keep_features=False) as journal:
        journal.write(_decision(0))
        (back,) = journal.records(DecisionRecord)
    assert back.features is None
    assert back.features_hash == features_hash(FEATS)


def test_unknown_record_type_is_counted_not_raised(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.write("not a record")  # type: ignore[arg-type]
        assert journal.counters["bad_records"] == 1
        assert journal.count("decisions") == 0


def test_close_checkpoints_the_wal(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    for i in range(50):
        journal.write(_decision(i))
    journal.close()
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM decisions").fetchone()[0] == 50


def test_full_session_counts_match_what_was_written(tmp_path: Path, make_session) -> None:
    s = make_session(n_games=4)
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.write_many(s.records)
        counts = {t: journal.count(t) for t in ("decisions", "fills", "orders", "games")}
        fills = journal.records(FillRecord)
    assert counts == {
        "decisions": len(s.decisions),
        "fills": len(s.fills),
        "orders": len(s.orders),
        "games": len(s.games),
    }
    assert fills == s.fills
    assert sum(f.realised for f in fills) == s.account.realised
    assert fills[-1].balance_after == s.account.balance
    assert isinstance(s.account, acc.Account)


def test_open_journal_applies_the_journal_config(tmp_path: Path) -> None:
    settings = load_settings(
        journal={"fsync_orders": False, "decision_batch_size": 7, "integrity_check": "full"}
    )
    with open_journal(tmp_path, settings) as journal:
        assert journal.path == tmp_path / "journal.sqlite"
        assert journal.durable is False
        assert journal.batch_size == 7
        assert journal.opened.created and journal.opened.check == "new"
    with open_journal(tmp_path, settings) as journal:
        assert not journal.opened.created and journal.opened.check == "full"


def test_numpy_model_outputs_are_stored_like_plain_floats(tmp_path: Path) -> None:
    feats = np.array(FEATS, dtype=np.float32)
    probs = np.array([0.25, 0.75], dtype=np.float32)
    record = _decision(0, features=feats, action_probs=probs, p_rug=np.float32(0.5),
                       price=np.float64(1.25))  # fmt: skip
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.write(record)
        (back,) = journal.records(DecisionRecord)
    assert back.features == features_from_bytes(features_bytes(FEATS))
    assert back.action_probs == (0.25, 0.75)
    assert back.p_rug == 0.5 and back.price == 1.25
    assert features_hash(feats) == features_hash(FEATS)
