"""``rugsd verify SERVER_SEED GAME_ID``: replay a finished game from its revealed seed.

Anyone can check a Rugs.fun game: once the server seed is revealed, its SHA-256 must equal
the hash published before the game, and the seed plus game id determine every price up
to the rug. This command prints what the seed determines and, with ``--hash``, whether the
published hash matches (exit status 1 if it does not).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from rugsd.daemon.game.engine import GameOutcome, generate_game, verify_hash
from rugsd.daemon.game.rules import CURRENT_VERSION, VERSIONS


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``verify`` sub-command on an argparse ``subparsers`` object."""
    parser = subparsers.add_parser(
        "verify",
        help="replay a game from its revealed server seed and check the published hash",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server_seed", metavar="SERVER_SEED", help="the revealed server seed")
    parser.add_argument("game_id", metavar="GAME_ID", help="the game id, e.g. 20251207-1e01…")
    parser.add_argument(
        "--version",
        choices=VERSIONS,
        default=CURRENT_VERSION,
        help=f"price algorithm version (default {CURRENT_VERSION})",
    )
    parser.add_argument(
        "--hash",
        dest="expected_hash",
        metavar="HASH",
        default=None,
        help="the server seed hash published before the game; exit 1 if it does not match",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def outcome_to_dict(outcome: GameOutcome, hash_matches: bool | None = None) -> dict[str, Any]:
    """The JSON form of a verified game (``hash_matches`` only when a hash was given)."""
    data: dict[str, Any] = {
        "game_id": outcome.game_id,
        "version": outcome.version,
        "server_seed": outcome.server_seed,
        "server_seed_hash": outcome.server_seed_hash,
        "rug_tick": outcome.rug_tick,
        "peak": outcome.peak,
        "n_prices": len(outcome.prices),
        "god_candles": list(outcome.god_candles),
        "prices": list(outcome.prices),
    }
    if hash_matches is not None:
        data["hash_matches"] = hash_matches
    return data


def _print_text(outcome: GameOutcome, expected: str | None, matches: bool | None) -> None:
    gods = ", ".join(str(t) for t in outcome.god_candles) or "none"
    lines = [
        f"game id      {outcome.game_id} ({outcome.version})",
        f"seed hash    {outcome.server_seed_hash}",
    ]
    if expected is not None:
        verdict = "matches" if matches else f"MISMATCH (published {expected})"
        lines.append(f"hash check   {verdict}")
    lines += [
        f"rug tick     {outcome.rug_tick}",
        f"peak         {outcome.peak:.6f}x",
        f"prices       {len(outcome.prices)} (from the seed; the rug price is not seeded)",
        f"last price   {outcome.prices[-1]:.6f}x",
        f"god candles  {gods}",
    ]
    print("\n".join(lines))


SEED_RE = re.compile(r"[0-9a-fA-F]{64}")  # a revealed server seed: 64 hex characters
GAME_ID_RE = re.compile(r"\d{8}-[0-9a-fA-F]{16}")  # the venue's ids: 20251207-1e01ac417e8043ca


def malformed_argument(server_seed: str, game_id: str) -> str | None:
    """Why ``server_seed`` / ``game_id`` cannot be a real seed / game id (None: fine)."""
    if not SEED_RE.fullmatch(server_seed):
        return (f"malformed server seed {server_seed[:80]!r}: expected 64 hex characters "
                "(the revealed seed)")
    if not GAME_ID_RE.fullmatch(game_id):
        return (f"malformed game id {game_id[:80]!r}: expected DATE-ID like "
                "20251207-1e01ac417e8043ca")
    return None


def run(args: argparse.Namespace) -> int:
    """Execute ``rugsd verify``; return the process exit status (1 on a hash mismatch,
    2 on a malformed seed or game id)."""
    malformed = malformed_argument(args.server_seed, args.game_id)
    if malformed is not None:
        print(f"rugsd verify: {malformed}", file=sys.stderr)
        return 2
    outcome = generate_game(args.server_seed, args.game_id, args.version)
    expected = getattr(args, "expected_hash", None)
    matches = None if expected is None else verify_hash(args.server_seed, expected)
    if getattr(args, "json", False):
        print(json.dumps(outcome_to_dict(outcome, matches)))
    else:
        _print_text(outcome, expected, matches)
    if matches is False:
        print("error: sha256(server seed) does not match the published hash", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m rugsd.daemon.cli_verify``)."""
    parser = argparse.ArgumentParser(prog="rugsd verify", description=__doc__)
    _add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
