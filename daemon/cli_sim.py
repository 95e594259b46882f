"""``rugsd sim``: serve the local game simulator until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import structlog

from rugsd.daemon.config import load_settings
from rugsd.daemon.logs import configure

log = structlog.get_logger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sim``."""
    parser = sub.add_parser("sim", help="run the local game server (same protocol as Rugs.fun)")
    parser.add_argument("--host", default=None, help="listen address (default: config sim.host)")
    parser.add_argument("--port", type=int, default=None, help="port, 0 = any free port")
    parser.add_argument("--speed", type=float, default=None, help="run N times faster")
    parser.add_argument("--seed", type=int, default=None, help="repeatable games from a seed")
    parser.add_argument(
        "--tamper", choices=["price", "seed", "late-rug"], default=None,
        help="CHEAT, for testing the venue audit: one tick's price off (price), a revealed "
        "seed that does not match the published hash (seed), or a rug later than the seed "
        "says (late-rug); every game",
    )
    parser.set_defaults(func=run_sim)


def run_sim(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; print the URL once listening; exit 0 on a clean stop."""
    settings = load_settings()
    configure(settings.logging.format, settings.logging.level)
    cfg = settings.sim
    host = args.host if args.host is not None else cfg.host
    port = args.port if args.port is not None else cfg.port
    if args.speed is not None and not 0 < args.speed <= 1000:
        print(f"rugsd: --speed must be in (0, 1000], got {args.speed}", file=sys.stderr)
        return 2
    if not 0 <= port <= 65535:
        print(f"rugsd: --port must be in [0, 65535], got {port}", file=sys.stderr)
        return 2
    tamper = getattr(args, "tamper", None)
    return asyncio.run(_serve(cfg, host, port, args.speed, args.seed, tamper))


async def _serve(cfg, host: str, port: int, speed: float | None, seed: int | None,
                 tamper: str | None = None) -> int:
    from rugsd.daemon.sim.server import SimServer  # imported here: keeps `rugsd --help` fast

    server = SimServer(cfg, seed=seed, speed=speed, tamper=tamper)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        bound = await server.start(host, port)
    except OSError as err:
        print(f"rugsd: cannot listen on {host}:{port}: {err}", file=sys.stderr)
        return 1
    cheat = f", TAMPERED: {tamper}" if tamper else ""
    print(
        f"rugsd sim listening on http://{host}:{bound} (speed {server.speed}, seed "
        f"{server.seed}{cheat})",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await server.stop()
    return 0
