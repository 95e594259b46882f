"""Restore the daemon's state from the journal after a crash (or a plain restart).

``restore(journal, run_dir)`` reads:

- the **account** from the latest ``PositionSnapshot``, rolled forward through any fills
  written after it (a crash between a fill and its snapshot). Each rolled fill is
  checked against its ``balance_after``; a fill the snapshot already contains is
  skipped, an inconsistent one stops the roll and sets ``consistent=False``.
- **open orders**: status "sent" with no fill. They are NOT re-sent: their ids are in
  the journal, so ``Journal.record_order_intent`` refuses them anyway. The daemon
  reconciles them with the venue (live: the next ``playerUpdate`` shows whether they
  filled) or, in paper mode where the pending fills died with the process, marks them
  "unknown" with ``mark_open_orders_unknown``.
- the **kill latch**: latched if ``run/kill.latch`` exists, or the latest kill event is
  newer than the latest clear (a risk transition out of KILLED or an operator
  clear-kill command with an "ok" result).
- the last **risk state**, the last game id / tick seen, and **session figures** for the
  loss limits: equity at the start of the latest run, its peak since, and the equity
  carried into today (UTC) — across runs, so a restart never resets the daily loss.

Equity of a snapshot is ``balance + floor(qty * mark_price)`` when the snapshot carries
a mark price, else ``balance + cost`` (cost basis).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from rugsd.daemon.game import accounting
from rugsd.daemon.game.accounting import Account, Fill, FillKind
from rugsd.daemon.journal.records import FillRecord, OrderRecord, OrderStatus, PositionSnapshot
from rugsd.daemon.journal.schema import FILLS, ORDERS, POSITIONS
from rugsd.daemon.journal.store import Journal

log = structlog.get_logger(__name__)

KILL_LATCH_FILE = "kill.latch"
KILLED_STATE = "killed"
# operator commands (control plane) that clear the kill latch when their result is "ok"
CLEAR_KILL_COMMANDS = frozenset({"clear_kill", "clear-kill", "unkill", "reset_kill", "rearm"})
DAY_MS = 86_400_000

_EQUITY_SQL = (
    "balance + CASE WHEN mark_price IS NULL THEN cost "
    "WHEN qty > 0 AND mark_price > 0 THEN CAST(qty * mark_price AS INTEGER) ELSE 0 END"
)


@dataclass(frozen=True, slots=True)
class JournaledEquity:
    """The equity figures (lamports) the journal's position snapshots hold; any may be
    missing. ``runtime/startup.figures_of`` turns them into the risk layer's
    ``SessionFigures``, which the loss limits then keep up to date."""

    session_start_equity: int | None = None  # first snapshot of the latest run
    peak_equity: int | None = None  # max snapshot equity of the latest run
    day_start_equity: int | None = None  # equity carried into the current UTC day
    current_equity: int | None = None  # latest snapshot


@dataclass(frozen=True, slots=True)
class RecoveredState:
    """Everything a restarted daemon needs to continue safely."""

    account: Account | None
    open_orders: list[OrderRecord] = field(default_factory=list)
    last_game_id: str | None = None
    last_tick: int | None = None
    kill_latched: bool = False
    risk_state: str | None = None
    session: JournaledEquity = JournaledEquity()
    last_run_id: str | None = None
    snapshot_ts_ms: int | None = None
    fills_rolled_forward: int = 0
    consistent: bool = True


# -- pure part ----------------------------------------------------------------------------


def apply_fill(acct: Account, fill: FillRecord) -> Account:
    """The account after a journaled fill (``accounting.apply_fill``: one arithmetic)."""
    return accounting.apply_fill(
        acct,
        Fill(FillKind(fill.kind), fill.tick, fill.price, fill.qty, fill.amount, fill.realised,
             fill.balance_after),
    )


def roll_forward(acct: Account, fills: Iterable[FillRecord]) -> tuple[Account, int, bool]:
    """Apply fills newer than a snapshot; returns (account, fills applied, consistent)."""
    applied = 0
    for fill in fills:
        try:
            after = apply_fill(acct, fill)
        except ValueError:  # unknown fill kind
            log.error("recovery_bad_fill_kind", kind=fill.kind)
            return acct, applied, False
        if after.balance == fill.balance_after:
            acct = after
            applied += 1
        elif acct.balance == fill.balance_after:
            continue  # the snapshot already includes this fill
        else:
            log.error(
                "recovery_fill_mismatch",
                kind=fill.kind,
                balance=acct.balance,
                balance_after=fill.balance_after,
            )
            return acct, applied, False
    return acct, applied, True


def is_kill_latched(
    last_kill_ts: int | None, last_clear_ts: int | None, latch_file_exists: bool
) -> bool:
    """Latched by the file, or a kill newer than (or as new as) the latest clear."""
    if latch_file_exists:
        return True
    if last_kill_ts is None:
        return False
    return last_clear_ts is None or last_kill_ts >= last_clear_ts


def day_start_ms(now_ms: int) -> int:
    """Start of the UTC day containing ``now_ms``."""
    return now_ms - now_ms % DAY_MS


# -- shell --------------------------------------------------------------------------------


def _run_filter(modes: Sequence[str] | None) -> tuple[str, tuple[str, ...]]:
    if not modes:
        return "1=1", ()
    marks = ", ".join("?" * len(modes))
    return f"run_id IN (SELECT run_id FROM runs WHERE mode IN ({marks}))", tuple(modes)


def _scalar(journal: Journal, sql: str, params: tuple = ()) -> object:
    row = journal.conn.execute(sql, params).fetchone()
    return row[0] if row else None


def _journaled_equity(
    journal: Journal, run_id: str, where: str, params: tuple, now_ms: int
) -> JournaledEquity:
    eq = _EQUITY_SQL
    first = _scalar(
        journal, f"SELECT {eq} FROM positions WHERE run_id = ? ORDER BY id LIMIT 1", (run_id,)
    )
    peak = _scalar(journal, f"SELECT MAX({eq}) FROM positions WHERE run_id = ?", (run_id,))
    current = _scalar(
        journal, f"SELECT {eq} FROM positions WHERE {where} ORDER BY id DESC LIMIT 1", params
    )
    day0 = day_start_ms(now_ms)
    carried = _scalar(
        journal,
        f"SELECT {eq} FROM positions WHERE {where} AND ts_ms < ? ORDER BY ts_ms DESC, id DESC "
        "LIMIT 1",
        (*params, day0),
    )
    if carried is None:
        carried = _scalar(
            journal,
            f"SELECT {eq} FROM positions WHERE {where} AND ts_ms >= ? ORDER BY ts_ms, id LIMIT 1",
            (*params, day0),
        )
    return JournaledEquity(
        session_start_equity=first,  # type: ignore[arg-type]
        peak_equity=peak,  # type: ignore[arg-type]
        day_start_equity=carried if carried is not None else current,  # type: ignore[arg-type]
        current_equity=current,  # type: ignore[arg-type]
    )


def _last_seen(journal: Journal, where: str, params: tuple) -> tuple[str | None, int | None]:
    """Game id and tick of the newest decision, snapshot or fill."""
    candidates = []
    for table in ("decisions", "positions", "fills"):
        row = journal.conn.execute(
            f"SELECT ts_ms, game_id, tick FROM {table} WHERE {where} ORDER BY rowid DESC LIMIT 1",
            params,
        ).fetchone()
        if row is not None:
            candidates.append(row)
    if not candidates:
        return None, None
    _, game_id, tick = max(candidates, key=lambda r: r[0])
    return game_id, tick


def _last_clear_ts(journal: Journal) -> int | None:
    marks = ", ".join("?" * len(CLEAR_KILL_COMMANDS))
    risk = _scalar(
        journal,
        "SELECT MAX(ts_ms) FROM risk_events WHERE lower(old_state) = ? AND lower(new_state) != ?",
        (KILLED_STATE, KILLED_STATE),
    )
    cmd = _scalar(
        journal,
        f"SELECT MAX(ts_ms) FROM operator_commands WHERE lower(command) IN ({marks}) "
        "AND lower(result) LIKE 'ok%'",
        tuple(sorted(CLEAR_KILL_COMMANDS)),
    )
    values = [v for v in (risk, cmd) if v is not None]
    return max(values) if values else None  # type: ignore[type-var]


def restore(
    journal: Journal,
    run_dir: str | Path,
    *,
    modes: Sequence[str] | None = None,
    now_ms: int | None = None,
) -> RecoveredState:
    """Rebuild the daemon's state from ``journal`` and the latch file in ``run_dir``.

    ``modes`` restricts accounts, orders and figures to runs of those modes (a live
    daemon must not resume a backtest's account); None means every run. The kill latch
    and the risk state are global. ``now_ms`` defaults to the wall clock (for the day
    boundary of the daily-loss figure).
    """
    journal.flush()
    where, params = _run_filter(modes)
    now = int(time.time() * 1000) if now_ms is None else now_ms

    snap_row = journal.conn.execute(
        f"SELECT {', '.join(POSITIONS.field_names)}, last_fill_id FROM positions "
        f"WHERE {where} ORDER BY id DESC LIMIT 1",
        params,
    ).fetchone()
    account = None
    snapshot: PositionSnapshot | None = None
    rolled, consistent = 0, True
    if snap_row is not None:
        snapshot = POSITIONS.from_row(snap_row[:-1])
        fills = [
            FILLS.from_row(row)
            for row in journal.conn.execute(
                f"{FILLS.select_sql()} WHERE id > ? AND {where} ORDER BY id",
                (snap_row[-1] or 0, *params),
            )
        ]
        account, rolled, consistent = roll_forward(snapshot.to_account(), fills)

    open_orders = [
        ORDERS.from_row(row)
        for row in journal.conn.execute(
            f"{ORDERS.select_sql()} o WHERE status = ? AND {where} AND NOT EXISTS "
            "(SELECT 1 FROM fills f WHERE f.order_id = o.order_id) ORDER BY ts_ms, rowid",
            (OrderStatus.SENT.value, *params),
        )
    ]
    last_game_id, last_tick = _last_seen(journal, where, params)
    last_kill = _scalar(journal, "SELECT MAX(ts_ms) FROM kill_events")
    latch_exists = (Path(run_dir) / KILL_LATCH_FILE).exists()
    risk_state = _scalar(
        journal, "SELECT new_state FROM risk_events ORDER BY ts_ms DESC, id DESC LIMIT 1"
    )
    session = (
        _journaled_equity(journal, snapshot.run_id, where, params, now)
        if snapshot is not None
        else JournaledEquity()
    )
    state = RecoveredState(
        account=account,
        open_orders=open_orders,
        last_game_id=last_game_id,
        last_tick=last_tick,
        kill_latched=is_kill_latched(last_kill, _last_clear_ts(journal), latch_exists),  # type: ignore[arg-type]
        risk_state=risk_state,  # type: ignore[arg-type]
        session=session,
        last_run_id=snapshot.run_id if snapshot else None,
        snapshot_ts_ms=snapshot.ts_ms if snapshot else None,
        fills_rolled_forward=rolled,
        consistent=consistent,
    )
    log.info(
        "journal_restored",
        has_account=account is not None,
        open_orders=len(open_orders),
        kill_latched=state.kill_latched,
        risk_state=risk_state,
        rolled=rolled,
        consistent=consistent,
    )
    return state


def mark_open_orders_unknown(
    journal: Journal, state: RecoveredState, ts_ms: int, detail: str = "open at restart"
) -> int:
    """Mark the recovered open orders "unknown" (never re-sent); returns how many."""
    marked = 0
    for order in state.open_orders:
        marked += journal.mark_order(order.order_id, OrderStatus.UNKNOWN, detail, ts_ms)
    return marked
