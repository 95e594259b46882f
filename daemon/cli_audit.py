"""``rugsd audit PATH... [--data-dir DIR] [--json] [--plots DIR]``: check that every game
kept its provably-fair commitment.

PATH is a recording file or folder (``*.jsonl``, ``*.jsonl.gz``: rugsd's recordings, the
real recordings, raw captures like ``websocket_raw_samples.jsonl``); ``--data-dir``
recomputes every audit the daemon journaled. Each game comes out ``verified``,
``hash_mismatch``, ``path_mismatch`` (first differing tick, both values) or
``unverifiable`` (with the reason); a fairness section (the house-edge meter) follows.

Exit status: 0 when no game broke its commitment, 1 on any mismatch (or a journaled
verdict that does not hold when recomputed), 2 when an input cannot be read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

EXIT_MISMATCH = 1
EXIT_INPUT = 2


def add_parser(subparsers: Any) -> None:
    """Register the ``audit`` sub-command."""
    p = subparsers.add_parser(
        "audit",
        help="check recordings, captures or a journal against the provably-fair commitments",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                   help="recording / capture file or folder (*.jsonl, *.jsonl.gz)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="also recompute the audits journaled in this data dir")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plots", type=Path, default=None, metavar="DIR",
                   help="write the rug survival plot here (needs the train extra)")
    p.set_defaults(func=run_audit)


def run_audit(args: argparse.Namespace) -> int:
    """Audit, print, and return the exit status."""
    from rugsd.daemon.audit.fairness import fairness, write_survival_plot
    from rugsd.daemon.audit.offline import (
        AuditInputError,
        OfflineAudit,
        audit_files,
        audit_journal,
        summarize,
    )
    from rugsd.daemon.logs import configure

    # logs to stderr: stdout carries the report only (bad lines are counted in it)
    configure("auto", "info", cache=False)

    if not args.paths and args.data_dir is None:
        print("rugsd audit: give a PATH (recordings, captures) and/or --data-dir DIR",
              file=sys.stderr)
        return EXIT_INPUT
    try:
        found = audit_files(list(args.paths)) if args.paths else OfflineAudit()
        if args.data_dir is not None:
            audit_journal(args.data_dir, found)
    except AuditInputError as err:
        print(f"rugsd audit: {err}", file=sys.stderr)
        return EXIT_INPUT
    facts = found.facts()
    doc = summarize(found, fairness(facts))
    if args.plots is not None:
        path, message = write_survival_plot(facts, args.plots)
        doc["fairness"]["plot"] = str(path) if path is not None else None
        doc["fairness"]["plot_note"] = message
    if args.json:
        try:
            sys.stdout.write(json.dumps(doc) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:  # `rugsd audit --json | head`: the reader left
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps exit-time flush quiet
    else:
        from rich.console import Console

        from rugsd.daemon.audit.render import render_audit

        console = Console()
        render_audit(doc, console)
        if args.plots is not None:
            console.print(doc["fairness"]["plot_note"])
    disagreements = doc.get("journal", {}).get("disagreements")
    return EXIT_MISMATCH if (doc["mismatches"] or disagreements) else 0
