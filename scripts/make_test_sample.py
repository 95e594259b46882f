"""Build ``tests/data/real/``: a compressed sample of the real captures in ``../shared``.

The tests carry their own data (a user's clone has no ``../shared``). This script is how
the sample was made, so it can be rebuilt or widened: it copies, gzip-compressed and
byte for byte, the raw captures (``websocket_raw_samples.jsonl``, ``key_samples.json``),
the logged-in captures, and a chosen subset of the 639 recordings:

- the first 60 by name (the earliest games; several tests take a prefix),
- every 30th (spread over the three days),
- the 13 files with malformed lines (cut or merged JSON: the replay must count them),
- mid-game starts and an instarug that tests name,
- the last 40 (time-later games: held-out and parity checks).

Usage: ``python scripts/make_test_sample.py [SHARED_REAL_DIR]``.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "real"
NAMED = (
    "game_20251029_183608.jsonl",  # starts mid-game at tick 347
    "game_20251029_183909.jsonl",  # used by the Parquet tests
    "game_20251029_210304.jsonl",  # starts mid-game, second line goes back one tick
    "game_20251030_103259_0653435e.jsonl",  # instarug at tick 1
)


def _gzip(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 and no file name in the header: the same input gives the same bytes
    with src.open("rb") as fin, dst.open("wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as fout:
        shutil.copyfileobj(fin, fout)


def _malformed(path: Path) -> bool:
    for line in path.open("rb"):
        try:
            json.loads(line)
        except ValueError:
            return True
    return False


def choose(recordings: list[Path]) -> list[Path]:
    """The recordings of the sample, in name order."""
    by_name = {p.name: p for p in recordings}
    chosen = recordings[:60] + recordings[::30] + recordings[-40:]
    chosen += [p for p in recordings if _malformed(p)]
    chosen += [by_name[n] for n in NAMED if n in by_name]
    return sorted(set(chosen))


def main(argv: list[str]) -> int:
    src = Path(argv[0]) if argv else ROOT.parent / "shared" / "data" / "real"
    if not src.is_dir():
        print(f"make_test_sample: no real data at {src}", file=sys.stderr)
        return 2
    if OUT.exists():
        shutil.rmtree(OUT)
    for name in ("websocket_raw_samples.jsonl", "key_samples.json"):
        _gzip(src / name, OUT / f"{name}.gz")
    for path in sorted((src / "logged-in").iterdir()):
        _gzip(path, OUT / "logged-in" / f"{path.name}.gz")
    recordings = sorted((src / "recordings").glob("*.jsonl"))
    chosen = choose(recordings)
    for path in chosen:
        _gzip(path, OUT / "recordings" / f"{path.name}.gz")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"{len(chosen)} of {len(recordings)} recordings; {total / 1e6:.1f} MB in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
