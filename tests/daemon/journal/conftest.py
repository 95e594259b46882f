"""Fixtures for the journal tests: a deterministic simulated trading session.

The session drives the real ``rugsd.daemon.game.accounting`` functions with a seeded random
strategy and emits exactly the records the decision core journals (decisions, order
intents, fills, position snapshots, ticks, games), so tests can compare what the journal
and the report say with what the accounting computed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from rugsd.daemon.game import accounting as acc
from rugsd.daemon.journal.records import (
    DecisionRecord,
    FillRecord,
    GameRecord,
    OrderRecord,
    PositionSnapshot,
    RunStarted,
    TickRecord,
    features_hash,
)

REFUSAL_REASONS = ("max_bet", "max_position", "halted", "entry_window")


@dataclass
class Session:
    """Everything one simulated run produced."""

    run_id: str
    records: list = field(default_factory=list)
    fills: list[FillRecord] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)
    orders: list[OrderRecord] = field(default_factory=list)
    games: list[GameRecord] = field(default_factory=list)
    ticks: int = 0
    account: acc.Account = field(default_factory=acc.Account)
    start_account: acc.Account = field(default_factory=acc.Account)


def simulate(
    run_id: str = "run-a",
    seed: int = 7,
    n_games: int = 6,
    start_ts: int = 1_700_000_000_000,
    mode: str = "paper",
    balance: int = 10**9,
) -> Session:
    """A deterministic session of ``n_games`` games through the accounting functions."""
    rng = random.Random(seed)
    s = Session(run_id)
    s.records.append(RunStarted(run_id, start_ts, mode, "random", "b1", "fs1", "{}", "deadbeef"))
    account = acc.open_account(balance)
    s.start_account = account
    ts = start_ts
    seq = 0
    n_order = 0

    def fill_rec(fill: acc.Fill, game_id: str, order_id: str | None) -> FillRecord:
        rec = FillRecord(
            order_id, run_id, ts, game_id, fill.tick, fill.kind.value, fill.price,
            fill.qty, fill.amount, fill.realised, fill.balance_after,
        )  # fmt: skip
        s.fills.append(rec)
        return rec

    for g in range(n_games):
        game_id = f"20240101-{seed:08x}{g:08x}"
        rug_tick = rng.randint(5, 110)
        price = 1.0
        peak = 1.0
        for tick in range(rug_tick):
            ts += 250
            price = max(0.05, price * (1 + rng.uniform(-0.1, 0.12)))
            peak = max(peak, price)
            s.records.append(TickRecord(run_id, ts, game_id, tick, price, "active"))
            s.ticks += 1
            account, lost = acc.settle_tick(account, tick)
            if lost is not None:
                s.records.append(fill_rec(lost, game_id, None))
            roll = rng.random()
            action, amount, pct = "wait", 0, 0
            if roll < 0.15:
                action, amount = "buy", rng.choice((10**6, 5 * 10**6, 10**7))
            elif roll < 0.25:
                action, pct = "sell", rng.choice((10, 25, 50, 100))
            elif roll < 0.3:
                action, amount = "sidebet", 10**6
            verdict, reason, order_id = "none", "", None
            result = None
            if action != "wait":
                if rng.random() < 0.3:
                    verdict, reason = "refused", rng.choice(REFUSAL_REASONS)
                else:
                    if action == "buy":
                        result = acc.buy(account, amount, price, tick)
                    elif action == "sell":
                        result = acc.sell(account, pct, price, tick)
                    else:
                        result = acc.place_sidebet(account, amount, tick)
                    if isinstance(result, acc.Reject):
                        verdict, reason, result = "refused", result.reason.value, None
                    else:
                        verdict = "order"
                        n_order += 1
                        order_id = f"{run_id}-o{n_order}"
            feats = (price, float(tick), rng.random())
            dec = DecisionRecord(
                run_id, seq, ts, game_id, tick, "active", price, features_hash(feats), feats,
                (0.7, 0.1, 0.1, 0.1), rng.random(), action, amount, pct, verdict, reason,
                order_id, "active",
            )  # fmt: skip
            seq += 1
            s.decisions.append(dec)
            s.records.append(dec)
            if result is not None:
                order = OrderRecord(
                    order_id, run_id, ts, game_id, tick, action, amount, pct, "sent", ""
                )
                s.orders.append(order)
                s.records.append(order)
                account, fill = result
                s.records.append(fill_rec(fill, game_id, order_id))
                s.records.append(
                    OrderRecord(order_id, run_id, ts, game_id, tick, action, amount, pct,
                                "filled", "")
                )  # fmt: skip
                s.records.append(
                    PositionSnapshot.of(account, run_id=run_id, ts_ms=ts, game_id=game_id,
                                        tick=tick, mark_price=price)
                )  # fmt: skip
        ts += 250
        account, fills = acc.settle_rug(account, rug_tick, 0.001)
        for fill in fills:
            s.records.append(fill_rec(fill, game_id, None))
        s.records.append(
            PositionSnapshot.of(account, run_id=run_id, ts_ms=ts, game_id=game_id, tick=rug_tick)
        )
        game = GameRecord(run_id, game_id, rug_tick, peak, f"seed{g}", ts)
        s.games.append(game)
        s.records.append(game)
        ts += 15_000
    s.account = account
    return s


@pytest.fixture
def session() -> Session:
    """The default simulated session (6 games, seed 7)."""
    return simulate()


@pytest.fixture
def make_session():
    """``simulate`` itself, for tests that need other seeds, runs or times."""
    return simulate


def crash_tail(s: Session) -> tuple[list, acc.Account, OrderRecord]:
    """Records written after a session right before a crash.

    A buy whose fill is journaled but whose position snapshot is not (recovery must roll
    it forward), then an order intent that never got a fill (an open order).
    Returns (records, account after the buy, the open order).
    """
    ts = s.games[-1].ended_ts_ms + 20_000
    game_id = "20240102-ffffffff00000000"
    account = s.account
    filled = OrderRecord("tail-o1", s.run_id, ts, game_id, 0, "buy", 2 * 10**6, 0, "sent", "")
    result = acc.buy(account, 2 * 10**6, 1.0, 0)
    assert not isinstance(result, acc.Reject)
    account, fill = result
    fill_rec = FillRecord(
        "tail-o1", s.run_id, ts, game_id, 0, fill.kind.value, fill.price, fill.qty,
        fill.amount, fill.realised, fill.balance_after,
    )  # fmt: skip
    open_order = OrderRecord("tail-o2", s.run_id, ts + 250, game_id, 1, "sell", 0, 50, "sent", "")
    return [filled, fill_rec, open_order], account, open_order
