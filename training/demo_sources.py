"""Where human demonstrations come from: ButtonEvent rows and the games' price paths.

``read_button_events`` reads ``DIR/button_events/*.parquet`` (``rugsd.daemon.execution.buttons``)
in press order; ``load_paths`` gives each game's known price path from Parquet files in
the dataset tick schema — the human recorder's ``human_ticks`` (a received tick wins
over a backfilled one over a ``gameHistory`` one) and the daemon's ``dataset/ticks`` —
read with DuckDB, plus complete recorded games; ``tick_files`` finds those files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import structlog

from rugsd.daemon.game import accounting
from rugsd.daemon.game.rules import TICK_MS
from rugsd.training.episodes import GameSpec

log = structlog.get_logger(__name__)

_NANO = Decimal(10) ** 9
_TICK_COLUMNS = ("run_id", "game_id", "tick", "price", "phase", "ts_ms")


def lamports(value: Decimal | float | None) -> int:
    """A 9-place SOL (or token) decimal → integer lamports (nano-tokens)."""
    if value is None:
        return 0
    if isinstance(value, Decimal):
        return int((value * _NANO).to_integral_value())
    return accounting.sol_to_lamports(float(value))


@dataclass(frozen=True, slots=True)
class PricePath:
    """What is known of one game: prices of ticks ``0..len-1`` (contiguous), the rug."""

    game_id: str
    prices: np.ndarray
    start_ms: int
    rug_tick: int | None = None
    rug_price: float | None = None

    @property
    def complete(self) -> bool:
        """Every active tick and the rug are known."""
        return self.rug_tick is not None and self.rug_tick == len(self.prices)

    def spec(self) -> GameSpec:
        """The complete game as a ``GameSpec`` (only for complete paths)."""
        return GameSpec(self.game_id, self.prices, float(self.rug_price or 0.0), self.start_ms,
                        "human")


def button_files(source: Path, sub: str = "button_events") -> list[Path]:
    """The ButtonEvent Parquet files of ``source`` (a file, ``DIR`` or ``DIR/button_events``)."""
    if source.is_file():
        return [source] if source.suffix == ".parquet" else []
    for folder in (source / sub, source):
        found = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
        if found:
            return found
    return []


def read_button_events(files: Iterable[Path], stats: Counter | None = None) -> list[dict]:
    """Rows of the ButtonEvent files, in press order (session, part file, row)."""
    stats = stats if stats is not None else Counter()
    rows: list[dict] = []
    for path in sorted(files):
        try:
            table = pq.read_table(path)
        except Exception as err:  # noqa: BLE001 -- a bad file is skipped, never a crash
            stats["unreadable_files"] += 1
            log.warning("demo_file_unreadable", path=str(path), error=str(err))
            continue
        for i, row in enumerate(table.to_pylist()):
            if not row.get("game_id") or not row.get("session_id"):
                stats["bad_rows"] += 1
                continue
            row["_order"] = (row["session_id"], path.name, i)
            rows.append(row)
    rows.sort(key=lambda r: r["_order"])
    return rows


def _readable(tick_files: Sequence[Path], stats: Counter) -> list[str]:
    """The tick files Parquet can read; each other one is one log line and a count."""
    ok = []
    for path in tick_files:
        try:
            pq.read_table(path, columns=list(_TICK_COLUMNS))
        except Exception as err:  # noqa: BLE001 -- a bad file is skipped, never a crash
            stats["unreadable_tick_files"] += 1
            log.warning("demo_tick_file_unreadable", path=str(path),
                        error=" ".join(str(err).split())[:300])
            continue
        ok.append(str(path))
    return ok


def load_paths(tick_files: Sequence[Path], recordings: Sequence[Path] = (),
               stats: Counter | None = None,
               ) -> tuple[dict[str, PricePath], dict[tuple[str, str], tuple[int, int]]]:
    """Price paths by game id, and the live-watched tick range per (session, game).

    ``tick_files`` are Parquet files in the dataset tick schema (the daemon's and the
    human recorder's); per (game, tick) a received tick wins over a backfilled one over a
    ``gameHistory`` one; a file that cannot be read is skipped and counted in ``stats``
    (``unreadable_tick_files``). Recorded complete games are added where the ticks lack
    them.
    """
    paths: dict[str, PricePath] = {}
    watched: dict[tuple[str, str], tuple[int, int]] = {}
    files = _readable(tick_files, stats if stats is not None else Counter())
    if files:
        import duckdb

        con = duckdb.connect()
        try:
            rows = con.execute(
                """
                SELECT game_id, tick, price, phase, ts_ms FROM (
                  SELECT *, row_number() OVER (PARTITION BY game_id, tick ORDER BY
                    run_id LIKE '%/history', run_id LIKE '%/backfill', ts_ms) AS rn
                  FROM read_parquet(?, union_by_name = true)
                ) WHERE rn = 1 ORDER BY game_id, tick
                """, [files]).fetchall()
            seen = con.execute(
                """SELECT run_id, game_id, min(tick), max(tick) FROM read_parquet(?,
                   union_by_name = true) WHERE phase = 'active' AND run_id NOT LIKE '%/%'
                   GROUP BY ALL""", [files]).fetchall()
        finally:
            con.close()
        watched = {(r[0], r[1]): (int(r[2]), int(r[3])) for r in seen}
        by_game: dict[str, list[tuple]] = {}
        for r in rows:
            by_game.setdefault(r[0], []).append(r)
        for gid, rs in by_game.items():
            prices: list[float] = []
            rug = None
            for _, tick, price, phase, _ in rs:
                if phase == "rugged":
                    rug = (int(tick), float(price))
                    break
                if tick != len(prices):
                    break  # a gap: only the contiguous prefix is usable
                prices.append(float(price))
            if not prices:
                continue
            start = int(rs[0][4]) if rs[0][1] == 0 else int(rs[0][4]) - rs[0][1] * TICK_MS
            ok_rug = rug is not None and rug[0] == len(prices)
            paths[gid] = PricePath(gid, np.asarray(prices), start,
                                   rug[0] if ok_rug else None, rug[1] if ok_rug else None)
    if recordings:
        from rugsd.training.dataset import games_from_recordings

        for g in games_from_recordings(recordings):
            have = paths.get(g.game_id)
            if have is None or not have.complete:
                paths[g.game_id] = PricePath(g.game_id, g.prices, g.start_ms, g.rug_tick,
                                             g.rug_price)
    return paths, watched


def tick_files(sources: Sequence[Path], data_dir: Path | None = None) -> list[Path]:
    """Tick Parquet files for ButtonEvent ``sources``: their ``human_ticks`` folders and
    ``data_dir``'s ``dataset/ticks`` and ``dataset/human_ticks``."""
    folders: set[Path] = set()
    for s in sources:
        base = s.parent if s.is_file() else s
        folders |= {base / "human_ticks", base.parent / "human_ticks"}
    if data_dir is not None:
        folders |= {Path(data_dir) / "dataset" / sub for sub in ("ticks", "human_ticks")}
    return sorted({f for d in folders if d.is_dir() for f in d.glob("*.parquet")})
