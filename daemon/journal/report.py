"""``rugsd report``: performance and safety figures from the journal and the dataset.

How it reads (offline): DuckDB can ATTACH sqlite only through its ``sqlite_scanner``
extension, which is downloaded on first use — impossible offline (checked: DuckDB 2.0
fails with "Failed to download extension sqlite_scanner"). So the journal is read with
Python's ``sqlite3`` (read-only URI, safe while the daemon writes thanks to WAL) into
Arrow tables with explicit types, the big ``decisions`` table pre-aggregated in sqlite
with ``GROUP BY``; DuckDB then queries those Arrow tables and reads the Parquet dataset
directly (its parquet reader is built in).

Decisions older than the journal's retention window live only in the Parquet day files
(``dataset/decisions/day-*.parquet``, see ``export``): the decision figures add those
files' rows to the journal's rows they do not cover (``rowid > max_rowid`` of the
day's file), so nothing is counted twice or lost when compaction prunes. An unreadable
Parquet file is skipped with a warning naming it (``warnings``) and the report covers
the rest.

``build_report(data_dir, since_ms)`` returns one JSON-ready dict. Keys:

- ``empty`` (bool): the journal holds nothing in the window.
- ``window``: ``since_ms``, ``since`` (ISO or null), ``first_ts_ms``, ``last_ts_ms``.
- ``pnl_sol`` / ``pnl_lamports``: realised P&L = sum of ``realised`` over all fills
  (trades and sidebets). ``trading_pnl_sol``: buys/sells/rug sells only.
- ``staked_sol`` / ``roi``: total staked = buy amounts + sidebet stakes; ROI = P&L /
  staked (null when nothing was staked).
- ``win_rate``: games with a positive realised P&L / games traded (null if none).
- ``trades``: ``buys``, ``sells``, ``rug_sells`` (forced sales at the rug), ``total``.
- ``sidebets``: ``placed``, ``won``, ``lost``, ``staked_sol``, ``pnl_sol``.
- ``games``: ``seen`` (games in decisions, fills or the games table), ``traded``
  (games with a fill), ``won``, ``lost``; ``complete`` / ``incomplete`` / ``skipped`` /
  ``played`` by ``rugsd.daemon.journal.games.classify_game`` — the rule ``rugsd
  replay`` and ``rugsd evaluate`` count with (rug seen = a rugged tick in the dataset).
- ``exits``: games whose position was ``sold`` vs ``rugged`` (closed by the rug).
- ``action_distribution``: decisions per intent action (``wait`` included).
- ``verdicts``: decisions per risk verdict; ``refusals_by_reason``: refused decisions
  per reason code.
- ``orders``: orders per status.
- ``risk_events``: ``count``, ``by_transition`` ("old->new": n), ``recent`` (last 20).
- ``kill_events``: list of ``{ts_ms, run_id, source, reason}``.
- ``runs``: per-run breakdown (metadata + decisions, games, trades, P&L, ROI).
- ``dataset``: Parquet files and rows per kind (ticks / decisions / games), and how many
  files were ``unreadable``.
- ``warnings``: one line per skipped (unreadable) Parquet file.
- ``fairness``: the house-edge meter over the games the journal covers
  (``rugsd.daemon.audit.fairness``: rug hazard with its 95 % CI, the geometric fit, the
  sidebet hit rate, the cost of holding a tick, and a plain-words ``verdict``).
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from rugsd.daemon.audit.fairness import GameFacts, fairness
from rugsd.daemon.audit.journal_facts import journal_facts
from rugsd.daemon.game.accounting import FillKind, lamports_to_sol
from rugsd.daemon.journal.dataset import DATASET_DIR
from rugsd.daemon.journal.dayfiles import (
    DAY_MS,
    DECISIONS,
    DayFile,
    journal_days,
    read_day_file,
)
from rugsd.daemon.journal.errors import DatasetError
from rugsd.daemon.journal.games import GameClass, classify_game, exit_of
from rugsd.daemon.journal.migrations import tables_of
from rugsd.daemon.journal.readers import query_files
from rugsd.daemon.journal.schema import TABLES
from rugsd.daemon.journal.store import JOURNAL_FILE

_ARROW_TYPES = {int: pa.int64(), float: pa.float64(), str: pa.string(), bytes: pa.binary()}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_REL = re.compile(r"^\s*(\d{1,9}(?:\.\d{1,6})?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_TS_COLUMN = {
    "runs": "started_ts_ms",
    "games": "ended_ts_ms",
}
# small tables loaded whole into Arrow (decisions are aggregated in sqlite instead)
_LOADED = ("runs", "orders", "fills", "risk_events", "kill_events", "operator_commands", "games")
_SPECS = {spec.name: spec for spec in TABLES}
_ENTRY_KINDS = (FillKind.BUY.value, FillKind.SIDEBET_PLACE.value)
_TRADE_KINDS = (FillKind.BUY.value, FillKind.SELL.value, FillKind.RUG_SELL.value)
_SIDEBET_KINDS = (
    FillKind.SIDEBET_PLACE.value,
    FillKind.SIDEBET_WIN.value,
    FillKind.SIDEBET_LOSS.value,
)


class ReportError(Exception):
    """The report cannot be built (missing data dir, unreadable journal)."""


def parse_since(text: str, now_ms: int) -> int:
    """``--since``: an ISO timestamp (naive = UTC) or a duration like ``30m``, ``2h``, ``1d``.

    Returns the cutoff in ms since the epoch; raises ``ValueError`` with a clear message.
    """
    m = _REL.match(text)
    if m:
        return now_ms - int(float(m.group(1)) * _UNIT_MS[m.group(2).lower()])
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since {text!r}: expected an ISO timestamp or a duration like 30m, 2h, 1d"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - _EPOCH) // timedelta(milliseconds=1)  # exact, no float rounding


def iso(ts_ms: int | None) -> str | None:
    """ms since the epoch as an ISO-8601 UTC string (None stays None)."""
    if ts_ms is None:
        return None
    try:
        return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):  # outside datetime's range
        return None


def _arrow(conn: sqlite3.Connection, sql: str, params: tuple, schema: pa.Schema) -> pa.Table:
    return _rows_table(conn.execute(sql, params).fetchall(), schema)


def _loaded_schema(name: str) -> pa.Schema:
    """The Arrow schema of a loaded journal table (its non-blob columns)."""
    spec = _SPECS[name]
    return pa.schema([(c, _ARROW_TYPES[t]) for c, t in spec.columns.items() if t is not bytes])


def _load(conn: sqlite3.Connection, since_ms: int) -> dict[str, pa.Table]:
    """The small journal tables (window-filtered), as Arrow."""
    tables: dict[str, pa.Table] = {}
    for name in _LOADED:
        schema = _loaded_schema(name)
        cols = schema.names
        ts = _TS_COLUMN.get(name, "ts_ms")
        # run metadata is loaded whole: a run started before the window may act in it
        where = "" if name == "runs" else f" WHERE {ts} >= ?"
        params = () if name == "runs" else (since_ms,)
        tables[name] = _arrow(conn, f"SELECT {', '.join(cols)} FROM {name}{where}", params, schema)
    return tables


_TALLY_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("game_id", pa.string()),
        ("intent_action", pa.string()),
        ("verdict", pa.string()),
        ("reason", pa.string()),
        ("n", pa.int64()),
        ("first_ts", pa.int64()),
        ("last_ts", pa.int64()),
        ("presale", pa.int64()),
        ("live", pa.int64()),
        ("first_tick", pa.int64()),
    ]
)
# one pass per source: counts per (run, game, action, verdict, reason); the report's
# per-action counts, games seen and each game's class (``classify_game``: presale and
# live decisions, first live tick) are all derived from it
_TALLY_SQL = (
    "SELECT run_id, game_id, intent_action, verdict, reason, COUNT(*), MIN(ts_ms), "
    "MAX(ts_ms), COUNT(*) FILTER (WHERE phase = 'presale'), "
    "COUNT(*) FILTER (WHERE phase != 'presale'), MIN(tick) FILTER (WHERE phase != 'presale') "
    "FROM {src} WHERE ts_ms >= ?{extra} "
    "GROUP BY run_id, game_id, intent_action, verdict, reason"
)
_RUGS_SCHEMA = pa.schema([("run_id", pa.string()), ("game_id", pa.string())])
_RUGS_SQL = "SELECT DISTINCT run_id, game_id FROM {src} WHERE phase = 'rugged' AND ts_ms >= ?"


def _day_files(data_dir: Path) -> tuple[list[DayFile], list[str]]:
    """Decision day files whose footer reads, and a warning for each other one."""
    files, warnings = [], []
    for path in sorted((data_dir / DATASET_DIR / "decisions").glob("day-*.parquet")):
        try:
            files.append(read_day_file(path))
        except DatasetError as err:
            warnings.append(f"skipped {err}")
    return files, warnings


def _decisions(
    conn: sqlite3.Connection | None, data_dir: Path, since_ms: int
) -> tuple[pa.Table, list[str]]:
    """The decision tally: the day files, plus the journal's rows no readable day file
    holds (``rowid > max_rowid`` of their day's file)."""
    days, warnings = _day_files(data_dir)
    rows: list[tuple] = []
    files = [f.path for f in days if f.day_ms + DAY_MS > since_ms]
    if files:
        found, used, skipped = query_files(_TALLY_SQL.format(src="read_parquet(?)", extra=""),
                                           files, [since_ms])
        rows += found
        warnings += skipped
        days = [f for f in days if f.path in used or f.day_ms + DAY_MS <= since_ms]
    if conn is not None:
        rows += _journal_tally(conn, {f.day_ms: f.max_rowid for f in days}, since_ms)
    return _rows_table(rows, _TALLY_SCHEMA), warnings


def _journal_tally(conn: sqlite3.Connection, covered: dict[int, int], since_ms: int) -> list:
    """The journal's decision tally outside the day files, a day at a time through the
    ts index (a day its file covers costs an index range scan, no table read)."""
    indexed = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND "
                           "name = 'idx_decisions_ts_ms'").fetchone()
    if indexed is None:  # a journal not migrated yet: one scan
        return conn.execute(_TALLY_SQL.format(src="decisions", extra=""),
                            (since_ms,)).fetchall()
    rows: list = []
    for day in journal_days(conn, DECISIONS, since_ms):
        rows += conn.execute(
            _TALLY_SQL.format(src="decisions", extra=" AND ts_ms < ? AND rowid > ?"),
            (max(day, since_ms), day + DAY_MS, covered.get(day, 0))).fetchall()
    return rows


def _rugs(conn: sqlite3.Connection | None, data_dir: Path, since_ms: int
          ) -> tuple[pa.Table, list[str]]:
    """(run_id, game_id) of the games whose rug the core saw: a rugged tick in the
    journal or in the tick day files (compaction moves old ticks there)."""
    rows: set[tuple] = set()
    files = sorted((data_dir / DATASET_DIR / "ticks").glob("*.parquet"))
    found, _used, warnings = query_files(_RUGS_SQL.format(src="read_parquet(?)"), files,
                                         [since_ms]) if files else ([], [], [])
    rows.update(found)
    if conn is not None and "ticks" in tables_of(conn):
        rows.update(conn.execute(_RUGS_SQL.format(src="ticks"), (since_ms,)).fetchall())
    return _rows_table(sorted(rows), _RUGS_SCHEMA), warnings


def _rows_table(rows: list[tuple], schema: pa.Schema) -> pa.Table:
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
    return pa.Table.from_arrays(
        [pa.array(list(c), type=f.type) for c, f in zip(cols, schema, strict=True)],
        schema=schema,
    )


def _q(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> Any:
    return _q(con, sql, params)[0][0]


def _sol(lamports: int | None) -> float:
    return lamports_to_sol(int(lamports or 0))


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


_FILL_FIGURES = f"""
    SELECT run_id,
        COALESCE(SUM(realised), 0) AS pnl,
        COALESCE(SUM(realised) FILTER (WHERE kind IN {_TRADE_KINDS}), 0) AS trading_pnl,
        COALESCE(SUM(realised) FILTER (WHERE kind IN {_SIDEBET_KINDS}), 0) AS sidebet_pnl,
        COALESCE(SUM(amount) FILTER (WHERE kind IN {_ENTRY_KINDS}), 0) AS staked,
        COALESCE(SUM(amount) FILTER (WHERE kind = 'sidebet_place'), 0) AS sidebet_staked,
        COUNT(*) FILTER (WHERE kind = 'buy') AS buys,
        COUNT(*) FILTER (WHERE kind = 'sell') AS sells,
        COUNT(*) FILTER (WHERE kind = 'rug_sell') AS rug_sells,
        COUNT(*) FILTER (WHERE kind = 'sidebet_place') AS sb_placed,
        COUNT(*) FILTER (WHERE kind = 'sidebet_win') AS sb_won,
        COUNT(*) FILTER (WHERE kind = 'sidebet_loss') AS sb_lost
    FROM fills GROUP BY ALL
"""

_GAME_FACTS = """
    WITH per_game AS (
        SELECT run_id, game_id, SUM(realised) AS pnl,
            COUNT(*) FILTER (WHERE kind = 'sell') AS sells,
            COUNT(*) FILTER (WHERE kind = 'rug_sell') AS rug_sells
        FROM fills GROUP BY ALL
    ), seen AS (
        SELECT run_id, game_id FROM decision_games
        UNION SELECT run_id, game_id FROM fills
        UNION SELECT run_id, game_id FROM games
    )
    SELECT s.run_id, s.game_id, COALESCE(d.presale, 0), COALESCE(d.live, 0), d.first_tick,
        r.game_id IS NOT NULL, p.game_id IS NOT NULL, COALESCE(p.pnl, 0),
        COALESCE(p.sells, 0), COALESCE(p.rug_sells, 0)
    FROM seen s
    LEFT JOIN decision_games d USING (run_id, game_id)
    LEFT JOIN per_game p USING (run_id, game_id)
    LEFT JOIN rugs r USING (run_id, game_id)
"""
_GAME_KEYS = ("seen", "traded", "won", "lost", "complete", "incomplete", "skipped", "played")


def _game_figures(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Per run: games seen / traded / won / lost, classified by ``classify_game`` (the
    rule ``rugsd replay`` and ``rugsd evaluate`` count with) and the exits."""
    out: dict[str, dict[str, int]] = {}
    for (run_id, _gid, presale, live, first_tick, rug_seen, traded, pnl, sells,
         rug_sells) in _q(con, _GAME_FACTS):
        g = out.setdefault(run_id, dict.fromkeys((*_GAME_KEYS, "sold", "rugged"), 0))
        klass = classify_game(presale, live, first_tick, bool(rug_seen))
        g["seen"] += 1
        g[klass.value] += 1
        g["played"] += klass is not GameClass.SKIPPED
        g["traded"] += bool(traded)
        g["won"] += bool(traded) and pnl > 0
        g["lost"] += bool(traded) and pnl <= 0
        ended = exit_of(sells, rug_sells)
        if ended is not None:
            g[ended] += 1
    return out


def _figures(row: dict[str, int], games: dict[str, int]) -> dict[str, Any]:
    """Shared per-run / total figures from summed fill and game counts."""
    return {
        "pnl_sol": _sol(row["pnl"]),
        "pnl_lamports": int(row["pnl"]),
        "trading_pnl_sol": _sol(row["trading_pnl"]),
        "staked_sol": _sol(row["staked"]),
        "roi": _ratio(row["pnl"], row["staked"]),
        "win_rate": _ratio(games["won"], games["traded"]),
        "trades": {
            "buys": int(row["buys"]),
            "sells": int(row["sells"]),
            "rug_sells": int(row["rug_sells"]),
            "total": int(row["buys"] + row["sells"] + row["rug_sells"]),
        },
        "sidebets": {
            "placed": int(row["sb_placed"]),
            "won": int(row["sb_won"]),
            "lost": int(row["sb_lost"]),
            "staked_sol": _sol(row["sidebet_staked"]),
            "pnl_sol": _sol(row["sidebet_pnl"]),
        },
        "games": {k: int(games[k]) for k in _GAME_KEYS},
        "exits": {"sold": int(games["sold"]), "rugged": int(games["rugged"])},
    }


def _dataset(data_dir: Path, since_ms: int) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Files and rows per dataset kind (DuckDB reads them: a file whose pages are damaged
    is found too), unreadable files skipped with a warning each."""
    out: dict[str, dict[str, int]] = {}
    warnings: list[str] = []
    ts_cols = {"ticks": "ts_ms", "decisions": "ts_ms", "games": "ended_ts_ms"}
    for kind, ts in ts_cols.items():
        files = sorted((data_dir / DATASET_DIR / kind).glob("*.parquet"))
        rows, used, skipped = query_files(
            f"SELECT COUNT(*) FROM read_parquet(?) WHERE {ts} >= ?", files, [since_ms])
        warnings += skipped
        out[kind] = {"files": len(used), "rows": int(rows[0][0]) if rows else 0,
                     "unreadable": len(files) - len(used)}
    return out, warnings


def _connect(journal: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
        if not tables_of(conn):
            conn.close()
            raise ReportError(f"cannot read journal {journal}: no journal tables (empty file?)")
    except sqlite3.Error as err:
        raise ReportError(f"cannot read journal {journal}: {err}") from None
    return conn


def build_report(data_dir: str | Path, since_ms: int | None = None) -> dict[str, Any]:
    """The report for ``data_dir`` (activity at or after ``since_ms``; None = all).

    Raises ``ReportError`` if ``data_dir`` does not exist or the journal is unreadable.
    A data dir without a journal reports what the dataset holds.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise ReportError(f"data dir {root} does not exist")
    cutoff = since_ms if since_ms is not None else -(2**62)
    journal = root / JOURNAL_FILE
    con = duckdb.connect()
    tables: dict[str, pa.Table] = {}
    facts: list[GameFacts] = []
    conn = _connect(journal) if journal.exists() else None
    try:
        if conn is not None:
            tables = _load(conn, cutoff)
            facts = journal_facts(conn, cutoff)
        tally, warnings = _decisions(conn, root, cutoff)
        rugs, rug_warnings = _rugs(conn, root, cutoff)
    except sqlite3.Error as err:
        raise ReportError(f"cannot read journal {journal}: {err}") from None
    finally:
        if conn is not None:
            conn.close()
    dataset, more = _dataset(root, cutoff)
    # a bad day file is met more than once
    warnings = list(dict.fromkeys(warnings + rug_warnings + more))
    if not tables and tally.num_rows == 0:
        return _with_fairness({**_empty(since_ms, dataset), "warnings": warnings}, facts)
    for name in _LOADED:  # no journal: empty tables of the right shape
        tables.setdefault(name, _rows_table([], _loaded_schema(name)))
    tables["decision_tally"] = tally
    tables["rugs"] = rugs
    for name, table in tables.items():
        con.register(name, table)
    con.execute("CREATE TEMP TABLE decision_counts AS SELECT run_id, intent_action, verdict, "
                "reason, SUM(n) AS n, MIN(first_ts) AS first_ts, MAX(last_ts) AS last_ts "
                "FROM decision_tally GROUP BY ALL")
    con.execute("CREATE TEMP TABLE decision_games AS SELECT run_id, game_id, "
                "SUM(presale) AS presale, SUM(live) AS live, MIN(first_tick) AS first_tick "
                "FROM decision_tally GROUP BY run_id, game_id")
    return _with_fairness({**_assemble(con, since_ms, dataset), "warnings": warnings}, facts)


def _with_fairness(report: dict[str, Any], facts: list[GameFacts]) -> dict[str, Any]:
    """Add the house-edge meter over the games the journal covers."""
    sidebets = report["sidebets"]
    report["fairness"] = fairness(facts, ours=(sidebets["won"], sidebets["lost"]))
    return report


def _empty(since_ms: int | None, dataset: dict) -> dict[str, Any]:
    zero = dict.fromkeys(
        ("pnl", "trading_pnl", "sidebet_pnl", "staked", "sidebet_staked", "buys", "sells",
         "rug_sells", "sb_placed", "sb_won", "sb_lost"),
        0,
    )  # fmt: skip
    games = dict.fromkeys((*_GAME_KEYS, "sold", "rugged"), 0)
    return {
        "empty": True,
        "window": {"since_ms": since_ms, "since": iso(since_ms), "first_ts_ms": None,
                   "last_ts_ms": None},
        **_figures(zero, games),
        "action_distribution": {},
        "verdicts": {},
        "refusals_by_reason": {},
        "orders": {},
        "risk_events": {"count": 0, "by_transition": {}, "recent": []},
        "kill_events": [],
        "runs": [],
        "dataset": dataset,
    }  # fmt: skip


def _assemble(con: duckdb.DuckDBPyConnection, since_ms: int | None, dataset: dict) -> dict:
    fill_cols = [
        "pnl", "trading_pnl", "sidebet_pnl", "staked", "sidebet_staked", "buys", "sells",
        "rug_sells", "sb_placed", "sb_won", "sb_lost",
    ]  # fmt: skip
    per_run_fills = {r[0]: dict(zip(fill_cols, r[1:], strict=True)) for r in _q(con, _FILL_FIGURES)}
    game_cols = [*_GAME_KEYS, "sold", "rugged"]
    per_run_games = _game_figures(con)
    zero_f = dict.fromkeys(fill_cols, 0)
    zero_g = dict.fromkeys(game_cols, 0)
    total_f = {c: sum(r[c] for r in per_run_fills.values()) for c in fill_cols}
    total_g = {c: sum(r[c] for r in per_run_games.values()) for c in game_cols}

    decisions_by_run = dict(_q(con, "SELECT run_id, SUM(n) FROM decision_counts GROUP BY ALL"))
    meta = {r[0]: r[1:] for r in _q(con, "SELECT run_id, started_ts_ms, mode, strategy, "
                                         "bundle_version, git_commit FROM runs")}  # fmt: skip
    active = set(per_run_fills) | set(per_run_games) | set(decisions_by_run)
    active |= {r[0] for r in _q(con, "SELECT run_id FROM orders UNION SELECT run_id FROM "
                                     "risk_events UNION SELECT run_id FROM kill_events")}  # fmt: skip
    if since_ms is not None:
        active |= {rid for rid, m in meta.items() if m[0] is not None and m[0] >= since_ms}
    else:
        active |= set(meta)
    runs = []
    for rid in sorted(active, key=lambda r: (meta.get(r, (0,))[0] or 0, r)):
        started, mode, strategy, bundle, commit = meta.get(rid, (None,) * 5)
        runs.append(
            {
                "run_id": rid,
                "started": iso(started),
                "mode": mode,
                "strategy": strategy,
                "bundle_version": bundle,
                "git_commit": commit,
                "decisions": int(decisions_by_run.get(rid, 0)),
                **_figures(per_run_fills.get(rid, zero_f), per_run_games.get(rid, zero_g)),
            }
        )

    span = _q(con, """
        SELECT MIN(t), MAX(t) FROM (
            SELECT first_ts AS t FROM decision_counts UNION ALL SELECT last_ts FROM decision_counts
            UNION ALL SELECT ts_ms FROM fills UNION ALL SELECT ts_ms FROM orders
            UNION ALL SELECT ts_ms FROM risk_events UNION ALL SELECT ts_ms FROM kill_events)
    """)[0]  # fmt: skip
    transitions = _q(con, "SELECT old_state || '->' || new_state, COUNT(*) FROM risk_events "
                          "GROUP BY ALL ORDER BY 2 DESC, 1")  # fmt: skip
    recent = _q(con, "SELECT ts_ms, run_id, old_state, new_state, reason FROM risk_events "
                     "ORDER BY ts_ms DESC LIMIT 20")  # fmt: skip
    kills = _q(con, "SELECT ts_ms, run_id, source, reason FROM kill_events ORDER BY ts_ms")
    empty = not active and span[0] is None
    return {
        "empty": empty,
        "window": {"since_ms": since_ms, "since": iso(since_ms), "first_ts_ms": span[0],
                   "last_ts_ms": span[1]},
        **_figures(total_f, total_g),
        "action_distribution": _counts(con, "intent_action", ""),
        "verdicts": _counts(con, "verdict", ""),
        "refusals_by_reason": _counts(con, "reason", "WHERE verdict = 'refused'"),
        "orders": dict(_q(con, "SELECT status, COUNT(*) FROM orders GROUP BY ALL ORDER BY 1")),
        "risk_events": {
            "count": sum(n for _, n in transitions),
            "by_transition": dict(transitions),
            "recent": [dict(zip(("ts_ms", "run_id", "old_state", "new_state", "reason"), r,
                                strict=True)) for r in recent],
        },
        "kill_events": [dict(zip(("ts_ms", "run_id", "source", "reason"), r, strict=True))
                        for r in kills],
        "runs": runs,
        "dataset": dataset,
    }  # fmt: skip


def _counts(con: duckdb.DuckDBPyConnection, col: str, where: str) -> dict[str, int]:
    rows = _q(con, f"SELECT {col}, SUM(n) FROM decision_counts {where} GROUP BY ALL "
                   "ORDER BY 2 DESC, 1")  # fmt: skip
    return {str(k): int(v) for k, v in rows}
