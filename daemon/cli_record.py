"""``rugsd record``: capture a feed to disk, or convert recordings to Parquet.

- ``rugsd record [--url URL] [--real] [--out DIR] [--duration S]`` — connect (default URL:
  ``feed.url``, the local simulator; ``--real`` uses ``feed.real_url`` with the venue's
  query string and Origin header) and write one ``<gameId>.jsonl`` per game into
  ``DIR`` (default ``<data-dir>/recordings``). SIGINT/SIGTERM or ``--duration`` stop it
  cleanly.
- ``rugsd record --to-parquet SRC --out DST`` — convert a file/folder of recordings (ours,
  the real recordings' format, raw samples) to ``DST/ticks.parquet`` and
  ``DST/events.parquet`` (default ``DST``: ``<data-dir>/parquet``).

Both print a one-line JSON summary on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from rugsd.daemon.config import load_settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``record``."""
    parser = sub.add_parser(
        "record",
        help="capture a feed to JSON lines (one file per game) or convert to Parquet",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", help="feed URL (default: feed.url from config)")
    parser.add_argument("--real", action="store_true",
                        help="record the real venue (feed.real_url, query + Origin from config)")
    parser.add_argument("--out", type=Path, help="output folder")
    parser.add_argument("--duration", type=float, metavar="S",
                        help="stop after S seconds (default: until SIGINT)")
    parser.add_argument("--to-parquet", type=Path, metavar="SRC",
                        help="convert recordings under SRC to Parquet in --out instead")
    parser.add_argument("--data-dir", type=Path, help="data folder (default: general.data_dir)")
    # --human: record a person's button presses on the venue page (behaviour cloning)
    from rugsd.daemon.execution.human import add_human_arguments

    add_human_arguments(parser)
    parser.set_defaults(func=run_record)


def _fail(message: str) -> int:
    print(f"rugsd record: {message}", file=sys.stderr)
    return 2


def run_record(args: argparse.Namespace) -> int:
    """Dispatch to recording, human demonstrations or conversion; 0 on success, 2 on bad input."""
    if getattr(args, "human", False):
        from rugsd.daemon.execution.human import run_human

        return run_human(args)
    settings = load_settings()
    from rugsd.daemon import logs

    logs.configure(settings.logging.format, settings.logging.level)
    data_dir = args.data_dir or settings.general.data_dir
    if args.to_parquet is not None:
        return _convert(args.to_parquet, args.out or data_dir / "parquet")
    if args.duration is not None and args.duration <= 0:
        return _fail("--duration must be > 0")
    if args.url and args.real:
        return _fail("--url and --real are exclusive")
    url = settings.feed.real_url if args.real else (args.url or settings.feed.url)
    out = args.out or data_dir / "recordings"
    from rugsd.daemon.feed.recorder import record

    stats = asyncio.run(
        record(out, settings.feed, url=url, duration_s=args.duration, install_signals=True)
    )
    print(json.dumps({"out": str(out), "lines": stats.lines, "files": stats.files,
                      "bytes": stats.bytes, "dropped": stats.dropped, "errors": stats.errors}))
    return 0


def _convert(src: Path, dst: Path) -> int:
    from rugsd.daemon.feed.parquet import convert
    from rugsd.daemon.feed.replay import ReplayError
    from rugsd.daemon.progress import progress_bar

    try:
        with progress_bar("to parquet", None, "files") as update:
            result = convert(src, dst, on_file=lambda done, files:
                             update(completed=done, total=files))
    except ReplayError as err:
        return _fail(str(err))
    print(json.dumps({"tick_rows": result.ticks, "event_rows": result.events,
                      "ticks_path": str(result.ticks_path),
                      "events_path": str(result.events_path),
                      "replay": result.replay.summary()}))
    return 0
